import { isAbsolute, resolve, dirname } from 'node:path';
import { ConfigError } from '../shared/errors.js';
import { expandVariables } from './expandVariables.js';
import {
  checkUrl,
  expectObject,
  expectString,
  expectStringArray,
  expectStringMap,
  optionalBoolean,
  optionalPositiveInt,
} from './jsonChecks.js';
import type { GatewayConfig, HttpServerConfig, ServerConfig, StdioServerConfig, ToolFilter } from './types.js';
import { validateGatewayOptions } from './validateGatewayOptions.js';
import { validateIdentityProvider } from './validateIdentityProvider.js';
import { validateOAuth } from './validateOAuth.js';

const SERVER_NAME = /^[A-Za-z0-9_-]+$/;
const STDIO_FIELDS = ['command', 'args', 'env', 'cwd'];
const HTTP_FIELDS = ['url', 'headers', 'oauth'];
const COMMON_FIELDS = ['type', 'transport', 'disabled', 'timeout', 'description', 'tools'];

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
  const gateway = validateGatewayOptions(root.gateway, file, warnings, env);
  const identityProvider = validateIdentityProvider(root.gateway, file, env, warnings, servers);
  if (identityProvider) gateway.identityProvider = identityProvider;
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
