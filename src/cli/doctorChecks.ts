import { constants } from 'node:fs';
import { access, readdir, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import type { HttpServerConfig, StdioServerConfig } from '../config/types.js';
import { errorMessage } from '../log/logger.js';
import { inspectAuthorization } from '../oauth/inspectAuthorization.js';
import type { TokenStore } from '../oauth/tokenStore.js';
import { bearerChallenge } from '../oauth/wwwAuthenticate.js';
import { probeServer } from '../oauth/probeServer.js';

/** One thing `gateway doctor` found: fine, worth knowing, or a problem, with the fix to apply. */
export interface Finding {
  level: 'ok' | 'warn' | 'fail';
  text: string;
  fix?: string;
}

export const ok = (text: string): Finding => ({ level: 'ok', text });
export const warn = (text: string, fix?: string): Finding => ({ level: 'warn', text, fix });
export const fail = (text: string, fix?: string): Finding => ({ level: 'fail', text, fix });
const quote = (path: string) => `'${path.replace(/'/g, `'\\''`)}'`;

/** The store's directories must be 0700 and its files 0600, owned by this user. */
export async function checkStorePermissions(store: TokenStore): Promise<Finding[]> {
  if (store.mode === 'memory') return [ok('memory store: nothing is written to disk')];
  if (process.platform === 'win32') return [ok(`${store.root}: permissions are not checked on Windows`)];
  const findings: Finding[] = [];
  const uid = process.getuid?.();
  const visit = async (path: string, isDir: boolean): Promise<void> => {
    const info = await stat(path);
    const mode = info.mode & 0o777;
    const want = isDir ? 0o700 : 0o600;
    if (mode & 0o077)
      findings.push(
        fail(
          `${path} is mode ${mode.toString(8).padStart(4, '0')}: other users can ${isDir ? 'list' : 'read'} it`,
          `chmod ${want.toString(8)} ${quote(path)}`,
        ),
      );
    if (uid !== undefined && info.uid !== uid)
      findings.push(fail(`${path} belongs to uid ${info.uid}, not to you (uid ${uid})`, `chown $(id -u) ${quote(path)}`));
    if (!isDir) return;
    for (const entry of await readdir(path, { withFileTypes: true })) {
      if (entry.name === 'lock' || entry.name.endsWith('.tmp')) continue;
      await visit(join(path, entry.name), entry.isDirectory());
    }
  };
  try {
    await visit(store.root, true);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      return [ok(`${store.root} does not exist yet (created 0700 at the first login)`)];
    return [fail(`cannot inspect ${store.root}: ${errorMessage(error)}`)];
  }
  if (!findings.length) findings.push(ok(`${store.root}: directories 0700, files 0600, all yours`));
  return findings;
}

export async function checkStdioServer(server: StdioServerConfig): Promise<Finding[]> {
  const findings: Finding[] = [];
  if (server.cwd) {
    const isDir = await stat(server.cwd).then(
      (info) => info.isDirectory(),
      () => false,
    );
    if (!isDir) findings.push(fail(`cwd ${server.cwd} is not a directory`, `create it, or correct mcpServers.${server.name}.cwd`));
  }
  const found = await findExecutable(server.command, { ...process.env, ...server.env }, server.cwd);
  findings.push(
    found
      ? ok(`${server.command} → ${found}`)
      : fail(
          `command not found or not executable: ${server.command}`,
          `install it, or correct mcpServers.${server.name}.command (PATH is searched for bare names)`,
        ),
  );
  return findings;
}

async function findExecutable(command: string, env: NodeJS.ProcessEnv, cwd = process.cwd()): Promise<string | undefined> {
  const candidates =
    command.includes('/') || isAbsolute(command)
      ? [resolve(cwd, command)]
      : (env.PATH ?? '')
          .split(delimiter)
          .filter(Boolean)
          .map((dir) => join(dir, command));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      if ((await stat(candidate)).isFile()) return candidate;
    } catch {
      // Next.
    }
  }
  return undefined;
}

/** What the static check of an HTTP server found, and whether it asked for an OAuth login (HTTP 401). */
/** Why a request got no answer, in words: fetch's own message ("fetch failed") says nothing. */
export function unreachableReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused';
  if (cause?.code === 'ENOTFOUND') return 'host not found';
  return cause?.message ?? errorMessage(error);
}

export interface HttpCheck {
  findings: Finding[];
  asksForLogin: boolean;
}

export async function checkHttpServer(server: HttpServerConfig, timeoutMs = 10_000): Promise<HttpCheck> {
  let probe: Awaited<ReturnType<typeof probeServer>>;
  try {
    probe = await probeServer(server.url, timeoutMs, { headers: server.headers, clientName: 'mcp-oauth-gateway-doctor' });
  } catch (error) {
    return found([
      fail(`cannot reach ${server.url}: ${unreachableReason(error)}`, `check mcpServers.${server.name}.url and that the server is running`),
    ]);
  }
  const status = probe.status;
  if (status === 401)
    return {
      findings: [ok(`reachable; asks for an OAuth login (HTTP 401)`), ...(await checkOAuth(server, probe.challenge))],
      asksForLogin: true,
    };
  if (status >= 200 && status < 300) return found([ok(`reachable; answers without a login (HTTP ${status})`)]);
  if (status === 403)
    return found([fail(`HTTP 403: the server refuses the request`, `check mcpServers.${server.name}.headers (an API key?)`)]);
  if ([400, 404, 405].includes(status) && server.transport !== 'sse') {
    return found([
      warn(
        `HTTP ${status} to a Streamable HTTP request: an older server? the gateway falls back to HTTP+SSE`,
        `if this is an SSE endpoint, set "type": "sse"`,
      ),
    ]);
  }
  return found([warn(`answered HTTP ${status}`, `check mcpServers.${server.name}.url`)]);
}

const found = (findings: Finding[]): HttpCheck => ({ findings, asksForLogin: false });

/** Can a login work: the authorization server's metadata, PKCE, a client. (Whether one is stored: doctorLogin.ts.) */
async function checkOAuth(server: HttpServerConfig, header: string | null): Promise<Finding[]> {
  const challenge = bearerChallenge(header);
  try {
    const facts = await inspectAuthorization(server.url, challenge?.resourceMetadata, server.oauth);
    const findings = [ok(`authorization server ${facts.issuer}: metadata valid, PKCE S256${facts.revocation ? ', token revocation' : ''}`)];
    if (server.oauth?.clientId) findings.push(ok(`client: static (oauth.clientId ${server.oauth.clientId})`));
    else if (facts.dynamicRegistration) findings.push(ok('client: registered automatically (dynamic client registration is offered)'));
    else {
      findings.push(
        fail(
          'the authorization server offers no dynamic client registration and no oauth.clientId is configured',
          `register an OAuth app there with the redirect URI http://127.0.0.1:<port>/callback, then set mcpServers.${server.name}.oauth.clientId (and clientSecret, callbackPort)`,
        ),
      );
    }
    return findings;
  } catch (error) {
    return [
      fail(
        `a login cannot work: ${errorMessage(error)}`,
        `ask the server's operator, or set mcpServers.${server.name}.oauth.authServerMetadataUrl if discovery is what fails`,
      ),
    ];
  }
}
