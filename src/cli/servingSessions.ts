import { gatewayPaths } from '../config/gatewayPaths.js';
import { readOrCreateAccessToken } from '../front/accessToken.js';
import type { SessionInfo } from '../gateway/sessionHub.js';
import { errorMessage } from '../log/logger.js';
import { servingNow } from './servingRecord.js';

/** A gateway serving this config over HTTP, with its client sessions (or why they could not be read). */
export interface FrontReport {
  url: string;
  pid: number;
  sessions?: SessionInfo[];
  error?: string;
}

/** The gateways serving `configPath` over HTTP on this machine, asked for their sessions (`GET /status`, with the local token). */
export async function frontsServing(configPath: string): Promise<FrontReport[]> {
  const dataDir = gatewayPaths().data;
  const records = (await servingNow(dataDir)).filter((record) => record.config === configPath);
  if (!records.length) return [];
  let token: string;
  try {
    token = await readOrCreateAccessToken(dataDir);
  } catch (error) {
    return records.map(({ url, pid }) => ({ url, pid, error: `the access token cannot be read: ${errorMessage(error)}` }));
  }
  return Promise.all(
    records.map(async ({ url, pid }) => {
      try {
        const response = await fetch(new URL('/status', url), {
          headers: { authorization: `Bearer ${token}` },
          signal: AbortSignal.timeout(3000),
        });
        if (!response.ok) return { url, pid, error: `GET /status answered ${response.status}` };
        const { sessions } = (await response.json()) as { sessions: SessionInfo[] };
        return { url, pid, sessions };
      } catch (error) {
        return { url, pid, error: errorMessage(error) };
      }
    }),
  );
}

/** The lines of `gateway list` for them. */
export function formatFronts(fronts: readonly FrontReport[]): string {
  const lines: string[] = [];
  for (const front of fronts) {
    const count = front.sessions
      ? `${front.sessions.length} session${front.sessions.length === 1 ? '' : 's'}`
      : `sessions unknown: ${front.error}`;
    lines.push(`Serving over HTTP at ${front.url} (pid ${front.pid}): ${count}`);
    for (const session of front.sessions ?? []) {
      const calls = session.callsInFlight ? `, ${session.callsInFlight} call${session.callsInFlight === 1 ? '' : 's'} in flight` : '';
      lines.push(
        `    ${session.id}  ${session.client ?? 'unnamed client'}  from ${session.from ?? '?'} since ${session.connectedAt}${calls}`,
      );
    }
  }
  return lines.length ? `\n${lines.join('\n')}\n` : '';
}
