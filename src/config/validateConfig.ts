import { isAbsolute, resolve, dirname } from 'node:path';
import { ConfigError } from '../shared/errors.js';
import { expandVariables } from './expandVariables.js';
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  type GatewayConfig,
  type GatewayOptions,
  type HttpServerConfig,
  type OAuthServerConfig,
  type ServerConfig,
  type StdioServerConfig,
  type ToolFilter,
} from './types.js';

const SERVER_NAME = /^[A-Za-z0-9_-]+$/;
const STDIO_FIELDS = ['command', 'args', 'env', 'cwd'];
const HTTP_FIELDS = ['url', 'headers', 'oauth'];
const COMMON_FIELDS = ['type', 'transport', 'disabled', 'timeout', 'description', 'tools'];
const OAUTH_FIELDS = [
  'clientId',
  'clientSecret',
  'callbackPort',
  'scopes',
  'authServerMetadataUrl',
  'resource',
  'grant',
  'privateKey',
  'privateKeyFile',
  'privateKeyAlg',
  'clientMetadataUrl',
];
const GATEWAY_FIELDS = [
  'logLevel',
  'logFile',
  'connectTimeout',
  'startupTimeout',
  'catalogCache',
  'callbackTimeout',
  'tokenStore',
  'maxCallsInFlight',
  'mode',
  'rules',
];
const TOKEN_STORES = ['file', 'encrypted', 'keychain', 'memory'];
const LOG_LEVELS = ['error', 'warn', 'info', 'debug'];

/**
 * Checks a parsed `.mcp.json` and turns it into a GatewayConfig.
 * Errors name the file, the server and the field; unknown fields become warnings.
 */
export function validateConfig(raw: unknown, file: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const warnings: string[] = [];
  const root = expectObject(raw, `${file}`, 'the top level must be a JSON object with an "mcpServers" object');
  for (const key of Object.keys(root)) {
    if (key !== 'mcpServers' && key !== 'gateway') warnings.push(`${file}: ${key}: unknown field, ignored`);
  }
  if (root.mcpServers === undefined) {
    throw new ConfigError(`${file}: mcpServers: missing (expected {"mcpServers": {"name": {"command": ...} | {"url": ...}}})`);
  }
  const serversRaw = expectObject(root.mcpServers, `${file}: mcpServers`, 'must be an object mapping server names to server entries');
  const servers: ServerConfig[] = [];
  for (const [name, entry] of Object.entries(serversRaw)) {
    servers.push(validateServer(name, entry, file, env, warnings));
  }
  const gateway = validateGatewayOptions(root.gateway, file, warnings);
  return { path: file, servers, gateway, warnings };
}

function validateServer(name: string, raw: unknown, file: string, env: NodeJS.ProcessEnv, warnings: string[]): ServerConfig {
  const at = `${file}: mcpServers.${name}`;
  checkServerName(name, at);
  const entry = expectObject(raw, at, 'must be an object with "command" (stdio) or "url" (HTTP)');
  const kindField = entry.type ?? entry.transport;
  const kindName = entry.type !== undefined ? 'type' : 'transport';
  if (kindField !== undefined && typeof kindField !== 'string') {
    throw new ConfigError(`${at}.${kindName}: must be a string ("stdio", "http", "streamable-http" or "sse")`);
  }
  if (entry.type !== undefined && entry.transport !== undefined && entry.type !== entry.transport) {
    throw new ConfigError(`${at}: "type" and "transport" disagree (${String(entry.type)} vs ${String(entry.transport)}); keep one`);
  }
  const hasCommand = entry.command !== undefined;
  const hasUrl = entry.url !== undefined;
  if (hasCommand && hasUrl) throw new ConfigError(`${at}: has both "command" and "url"; a server is either stdio (command) or HTTP (url)`);
  if (!hasCommand && !hasUrl) throw new ConfigError(`${at}: needs "command" (a stdio server) or "url" (an HTTP server)`);

  const allowed = new Set([...COMMON_FIELDS, ...(hasCommand ? STDIO_FIELDS : HTTP_FIELDS)]);
  for (const key of Object.keys(entry)) {
    if (allowed.has(key)) continue;
    const hint = (hasCommand ? HTTP_FIELDS : STDIO_FIELDS).includes(key)
      ? ` (it applies to ${hasCommand ? 'HTTP' : 'stdio'} servers only)`
      : '';
    warnings.push(`${at}.${key}: unknown field, ignored${hint}`);
  }

  const disabled = optionalBoolean(entry.disabled, `${at}.disabled`) ?? false;
  const timeout = optionalPositiveInt(entry.timeout, `${at}.timeout`, 'milliseconds');
  const tools = entry.tools === undefined ? undefined : validateToolFilter(entry.tools, `${at}.tools`, warnings);
  const description = entry.description === undefined ? undefined : expectString(entry.description, `${at}.description`);
  const expand = (value: string, field: string) => expandVariables(value, env, `${at}.${field}`);
  if (hasCommand) {
    if (kindField !== undefined && kindField !== 'stdio') {
      throw new ConfigError(`${at}.${kindName}: "${kindField}" needs a "url"; a server with "command" is "stdio"`);
    }
    const command = expand(expectString(entry.command, `${at}.command`), 'command');
    if (!command.trim()) throw new ConfigError(`${at}.command: must not be empty`);
    const args = expectStringArray(entry.args, `${at}.args`).map((arg, i) => expand(arg, `args[${i}]`));
    const envVars = expectStringMap(entry.env, `${at}.env`, (k, v) => expand(v, `env.${k}`));
    let cwd: string | undefined;
    if (entry.cwd !== undefined) {
      cwd = expand(expectString(entry.cwd, `${at}.cwd`), 'cwd');
      if (!isAbsolute(cwd)) cwd = resolve(dirname(file), cwd);
    }
    const server: StdioServerConfig = {
      kind: 'stdio',
      name,
      command,
      args,
      env: envVars,
      cwd,
      timeout,
      disabled,
      ...(tools ? { tools } : {}),
      ...(description ? { description } : {}),
    };
    return server;
  }

  let transport: HttpServerConfig['transport'];
  switch (kindField) {
    case undefined:
    case 'http':
    case 'streamable-http':
    case 'streamableHttp':
      transport = 'streamable-http';
      break;
    case 'sse':
      transport = 'sse';
      break;
    case 'stdio':
      throw new ConfigError(`${at}.${kindName}: "stdio" needs a "command", but this server has a "url"`);
    default:
      throw new ConfigError(`${at}.${kindName}: unknown transport "${kindField}" (use "http", "streamable-http" or "sse")`);
  }
  const url = expand(expectString(entry.url, `${at}.url`), 'url');
  checkUrl(url, `${at}.url`);
  const headers = expectStringMap(entry.headers, `${at}.headers`, (k, v) => expand(v, `headers.${k}`));
  const oauth = entry.oauth === undefined ? undefined : validateOAuth(entry.oauth, `${at}.oauth`, expand, warnings);
  const server: HttpServerConfig = {
    kind: 'http',
    name,
    url,
    transport,
    headers,
    oauth,
    timeout,
    disabled,
    ...(tools ? { tools } : {}),
    ...(description ? { description } : {}),
  };
  return server;
}

/** The config file a field path like `/x/.mcp.json: mcpServers.a.oauth` belongs to. */
function configFileOf(at: string): string {
  return at.slice(0, at.indexOf(': '));
}

function validateOAuth(raw: unknown, at: string, expand: (value: string, field: string) => string, warnings: string[]): OAuthServerConfig {
  const block = expectObject(raw, at, 'must be an object such as {"clientId": "...", "scopes": [...]}');
  for (const key of Object.keys(block)) {
    if (!OAUTH_FIELDS.includes(key)) warnings.push(`${at}.${key}: unknown field, ignored`);
  }
  const out: OAuthServerConfig = {};
  if (block.clientId !== undefined) out.clientId = expand(expectString(block.clientId, `${at}.clientId`), 'oauth.clientId');
  if (block.clientSecret !== undefined) {
    out.clientSecret = expand(expectString(block.clientSecret, `${at}.clientSecret`), 'oauth.clientSecret');
  }
  if (block.callbackPort !== undefined) {
    const port = optionalPositiveInt(block.callbackPort, `${at}.callbackPort`, 'a TCP port');
    if (port !== undefined && port > 65535) throw new ConfigError(`${at}.callbackPort: must be a TCP port (1-65535)`);
    out.callbackPort = port;
  }
  if (block.scopes !== undefined) {
    // Claude Code writes scopes as an array; a space-separated string is accepted too.
    out.scopes =
      typeof block.scopes === 'string' ? block.scopes.split(/\s+/).filter(Boolean) : expectStringArray(block.scopes, `${at}.scopes`);
  }
  if (block.authServerMetadataUrl !== undefined) {
    const url = expand(expectString(block.authServerMetadataUrl, `${at}.authServerMetadataUrl`), 'oauth.authServerMetadataUrl');
    checkUrl(url, `${at}.authServerMetadataUrl`);
    out.authServerMetadataUrl = url;
  }
  if (block.resource !== undefined) out.resource = optionalBoolean(block.resource, `${at}.resource`);
  if (block.grant !== undefined) {
    const grant = expectString(block.grant, `${at}.grant`);
    if (grant !== 'authorization_code' && grant !== 'client_credentials') {
      throw new ConfigError(
        `${at}.grant: must be "authorization_code" (a person logs in) or "client_credentials" (a machine), not "${grant}"`,
      );
    }
    out.grant = grant;
  }
  if (block.privateKey !== undefined) out.privateKey = expand(expectString(block.privateKey, `${at}.privateKey`), 'oauth.privateKey');
  if (block.privateKeyFile !== undefined) {
    const path = expand(expectString(block.privateKeyFile, `${at}.privateKeyFile`), 'oauth.privateKeyFile');
    out.privateKeyFile = isAbsolute(path) ? path : resolve(dirname(configFileOf(at)), path);
  }
  if (block.privateKeyAlg !== undefined) out.privateKeyAlg = expectString(block.privateKeyAlg, `${at}.privateKeyAlg`);
  if (block.clientMetadataUrl !== undefined) {
    const url = expand(expectString(block.clientMetadataUrl, `${at}.clientMetadataUrl`), 'oauth.clientMetadataUrl');
    const parsed = URL.canParse(url) ? new URL(url) : undefined;
    if (parsed?.protocol !== 'https:' || parsed.pathname === '/') {
      throw new ConfigError(`${at}.clientMetadataUrl: must be an https URL with a path (the client metadata document), not "${url}"`);
    }
    out.clientMetadataUrl = url;
  }
  if (out.clientSecret && !out.clientId) throw new ConfigError(`${at}.clientSecret: given without "clientId"`);
  if ((out.privateKey || out.privateKeyFile) && !out.clientId) throw new ConfigError(`${at}.privateKey: given without "clientId"`);
  if (out.grant === 'client_credentials' && (!out.clientId || !(out.clientSecret || out.privateKey || out.privateKeyFile))) {
    throw new ConfigError(`${at}.grant: "client_credentials" needs "clientId" and either "clientSecret" or "privateKey"/"privateKeyFile"`);
  }
  return out;
}

/** `tools: {allow: [...], deny: [...]}`: tool-name patterns with `*` wildcards. */
function validateToolFilter(raw: unknown, at: string, warnings: string[]): ToolFilter {
  const block = expectObject(raw, at, 'must be an object like {"allow": ["read_*"], "deny": ["delete_*"]}');
  for (const key of Object.keys(block))
    if (key !== 'allow' && key !== 'deny') warnings.push(`${at}.${key}: unknown field, ignored (use "allow" and "deny")`);
  const filter: ToolFilter = {};
  if (block.allow !== undefined) filter.allow = expectStringArray(block.allow, `${at}.allow`);
  if (block.deny !== undefined) filter.deny = expectStringArray(block.deny, `${at}.deny`);
  return filter;
}

function validateGatewayOptions(raw: unknown, file: string, warnings: string[]): GatewayOptions {
  const options: GatewayOptions = { connectTimeout: DEFAULT_CONNECT_TIMEOUT_MS };
  if (raw === undefined) return options;
  const at = `${file}: gateway`;
  const block = expectObject(raw, at, 'must be an object of gateway options');
  for (const key of Object.keys(block)) {
    if (!GATEWAY_FIELDS.includes(key)) warnings.push(`${at}.${key}: unknown field, ignored`);
  }
  if (block.logLevel !== undefined) {
    const level = expectString(block.logLevel, `${at}.logLevel`);
    if (!LOG_LEVELS.includes(level)) throw new ConfigError(`${at}.logLevel: must be one of ${LOG_LEVELS.join(', ')}`);
    options.logLevel = level as GatewayOptions['logLevel'];
  }
  if (block.logFile !== undefined) {
    const path = expectString(block.logFile, `${at}.logFile`);
    options.logFile = isAbsolute(path) ? path : resolve(dirname(file), path);
  }
  options.connectTimeout = optionalPositiveInt(block.connectTimeout, `${at}.connectTimeout`, 'milliseconds') ?? options.connectTimeout;
  options.startupTimeout = optionalPositiveInt(block.startupTimeout, `${at}.startupTimeout`, 'milliseconds');
  if (block.catalogCache !== undefined) {
    if (typeof block.catalogCache !== 'boolean') throw new ConfigError(`${at}.catalogCache: must be true or false`);
    options.catalogCache = block.catalogCache;
  }
  options.callbackTimeout = optionalPositiveInt(block.callbackTimeout, `${at}.callbackTimeout`, 'milliseconds');
  options.maxCallsInFlight = optionalPositiveInt(block.maxCallsInFlight, `${at}.maxCallsInFlight`, 'calls');
  if (block.mode !== undefined) {
    const mode = expectString(block.mode, `${at}.mode`);
    if (mode !== 'aggregate' && mode !== 'meta') throw new ConfigError(`${at}.mode: must be "aggregate" or "meta" (got "${mode}")`);
    options.mode = mode;
  }
  if (block.rules !== undefined) {
    const path = expectString(block.rules, `${at}.rules`);
    options.rules = isAbsolute(path) ? path : resolve(dirname(file), path);
  }
  if (block.tokenStore !== undefined) {
    const mode = expectString(block.tokenStore, `${at}.tokenStore`);
    if (!TOKEN_STORES.includes(mode)) throw new ConfigError(`${at}.tokenStore: must be one of ${TOKEN_STORES.join(', ')} (got "${mode}")`);
    options.tokenStore = mode as GatewayOptions['tokenStore'];
  }
  return options;
}

function checkServerName(name: string, at: string): void {
  const problem = !name
    ? 'is empty'
    : name.includes('__')
      ? 'contains "__", which separates server and tool names'
      : !SERVER_NAME.test(name)
        ? 'may contain only letters, digits, "_" and "-"'
        : name.endsWith('_')
          ? 'must not end with "_" (tool names would become ambiguous)'
          : undefined;
  if (problem) {
    throw new ConfigError(`${at}: server name "${name}" ${problem}; its tools are exposed as <server>__<tool>, so rename it`);
  }
}

function checkUrl(value: string, at: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${at}: not a valid URL: "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${at}: must be an http:// or https:// URL, not ${url.protocol}`);
  }
}

type JsonObject = Record<string, unknown>;

function expectObject(value: unknown, at: string, what: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ConfigError(`${at}: ${what}`);
  return value as JsonObject;
}

function expectString(value: unknown, at: string): string {
  if (typeof value !== 'string') throw new ConfigError(`${at}: must be a string, not ${describe(value)}`);
  return value;
}

function expectStringArray(value: unknown, at: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ConfigError(`${at}: must be an array of strings, not ${describe(value)}`);
  return value.map((item, i) => {
    if (typeof item !== 'string') throw new ConfigError(`${at}[${i}]: must be a string, not ${describe(item)}`);
    return item;
  });
}

function expectStringMap(value: unknown, at: string, map: (key: string, value: string) => string): Record<string, string> {
  if (value === undefined) return {};
  const block = expectObject(value, at, `must be an object of string values, not ${describe(value)}`);
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(block)) {
    if (typeof item !== 'string') throw new ConfigError(`${at}.${key}: must be a string, not ${describe(item)}`);
    out[key] = map(key, item);
  }
  return out;
}

function optionalBoolean(value: unknown, at: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new ConfigError(`${at}: must be true or false, not ${describe(value)}`);
  return value;
}

function optionalPositiveInt(value: unknown, at: string, unit: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ConfigError(`${at}: must be a positive whole number (${unit}), not ${describe(value)}`);
  }
  return value;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string "${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
