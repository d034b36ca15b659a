import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { LoggingLevel, Notification } from '@modelcontextprotocol/sdk/types.js';
import type { Downstream } from '../downstream/downstream.js';
import type { Logger } from '../log/logger.js';
import { ignoreFailure } from '../shared/bestEffort.js';
import type { ResourceCatalog } from './resourceCatalog.js';

/**
 * A server's notification on its way to the client: log messages tagged with the server's
 * name, resource updates under the URI the client knows, a URL elicitation's completion
 * only to a client that declared URL elicitation. The rest (list changes are the gateway's
 * own business) stays here. A client that went away is not an error: sends are best effort.
 */
export function passServerNotification(
  server: Server,
  resources: ResourceCatalog,
  log: Logger,
  downstream: Downstream,
  notification: Notification,
): void {
  const params = (notification.params ?? {}) as Record<string, unknown>;
  if (notification.method === 'notifications/elicitation/complete') {
    const elicitation = server.getClientCapabilities()?.elicitation as { url?: object } | undefined;
    if (elicitation?.url) ignoreFailure(server.notification(notification as never));
    return;
  }
  if (notification.method === 'notifications/message') {
    const logger = typeof params.logger === 'string' ? `${downstream.name}/${params.logger}` : downstream.name;
    ignoreFailure(server.sendLoggingMessage({ ...(params as { level: LoggingLevel; data: unknown }), logger }));
    return;
  }
  if (notification.method === 'notifications/resources/updated' && typeof params.uri === 'string') {
    ignoreFailure(server.sendResourceUpdated({ ...params, uri: resources.exposedUri(downstream, params.uri) }));
    return;
  }
  log.debug(`${downstream.name}: notification ${notification.method} not passed on`);
}
