import type { Resource, ResourceTemplate } from '@modelcontextprotocol/sdk/types.js';
import { UriTemplate } from '@modelcontextprotocol/sdk/shared/uriTemplate.js';
import type { Downstream } from '../downstream/downstream.js';
import { isListed } from './toolCatalog.js';

/** A URI that two servers both list is exposed once per server in this form, which routes back to it. */
export const GATEWAY_URI_SCHEME = 'mcp-gateway:';

export interface ResourceRoute {
  server: Downstream;
  /** The URI on the server's side. */
  uri: string;
}

export function gatewayUri(server: string, uri: string): string {
  return `${GATEWAY_URI_SCHEME}//${server}/${encodeURIComponent(uri)}`;
}

/**
 * Resources and resource templates of every listed server. A URI only one server lists is
 * passed through as it is; a URI several list is exposed once per server as
 * `mcp-gateway://<server>/<the URI, percent-encoded>`. A URI no list names (one built from a
 * template) goes to the first server, in config order, whose template matches it.
 */
export class ResourceCatalog {
  private resources: Resource[] = [];
  private templates: ResourceTemplate[] = [];
  private routes = new Map<string, ResourceRoute>();
  private templateRoutes: Array<{ server: Downstream; template: UriTemplate; text: string }> = [];
  private signed?: string;

  constructor(
    private readonly servers: readonly Downstream[],
    /** Servers the agent may see (the access rules); the others' resources are not offered. */
    private readonly visible: (server: string) => boolean = () => true,
  ) {}

  private offered(server: Downstream): boolean {
    return isListed(server) && this.visible(server.name);
  }

  rebuild(): void {
    const owners = new Map<string, number>();
    for (const server of this.servers) {
      if (!this.offered(server)) continue;
      for (const resource of server.resources) owners.set(resource.uri, (owners.get(resource.uri) ?? 0) + 1);
    }
    const resources: Resource[] = [];
    const routes = new Map<string, ResourceRoute>();
    const templates: ResourceTemplate[] = [];
    const templateRoutes: typeof this.templateRoutes = [];
    for (const server of this.servers) {
      if (!this.offered(server)) continue;
      for (const resource of server.resources) {
        const shared = (owners.get(resource.uri) ?? 0) > 1;
        const uri = shared ? gatewayUri(server.name, resource.uri) : resource.uri;
        resources.push(shared ? { ...resource, uri, name: `${server.name}__${resource.name}` } : resource);
        routes.set(uri, { server, uri: resource.uri });
      }
      for (const template of server.resourceTemplates) {
        templates.push(template);
        try {
          templateRoutes.push({ server, template: new UriTemplate(template.uriTemplate), text: template.uriTemplate });
        } catch {
          // A template the SDK cannot parse is listed but routes nothing.
        }
      }
    }
    this.resources = resources;
    this.templates = templates;
    this.routes = routes;
    this.templateRoutes = templateRoutes;
    this.signed = undefined;
  }

  list(): Resource[] {
    return this.resources;
  }

  listTemplates(): ResourceTemplate[] {
    return this.templates;
  }

  route(uri: string): ResourceRoute | undefined {
    const listed = this.routes.get(uri);
    if (listed) return listed;
    if (uri.startsWith(`${GATEWAY_URI_SCHEME}//`)) {
      const rest = uri.slice(GATEWAY_URI_SCHEME.length + 2);
      const slash = rest.indexOf('/');
      const server = this.servers.find((candidate) => candidate.name === rest.slice(0, slash) && this.offered(candidate));
      if (server && slash > 0) return { server, uri: decodeURIComponent(rest.slice(slash + 1)) };
      return undefined;
    }
    for (const { server, template } of this.templateRoutes) {
      if (template.match(uri)) return { server, uri };
    }
    return undefined;
  }

  /** The server that offers a template (for completion/complete). */
  routeTemplate(uriTemplate: string): Downstream | undefined {
    return this.templateRoutes.find((entry) => entry.text === uriTemplate)?.server;
  }

  /** The URI the client knows for a server's URI (for notifications/resources/updated). */
  exposedUri(server: Downstream, uri: string): string {
    const direct = this.routes.get(uri);
    return direct && direct.server === server ? uri : this.routes.has(gatewayUri(server.name, uri)) ? gatewayUri(server.name, uri) : uri;
  }

  signature(): string {
    return (this.signed ??= JSON.stringify([this.resources, this.templates]));
  }
}
