import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { sanitize } from './sanitizeError.js';

/** The steps of a login, as a failure names them. */
export type LoginStep = 'protected-resource metadata' | 'authorization-server metadata' | 'registration' | 'authorization' | 'token';

/**
 * Which step of a login is under way, and the last answer of that step that was not a
 * success, so that a failed login says what happened: the server, the step, the host and the
 * reason in words (the SDK's errors can be empty: an unparsed error answer, a metadata error
 * it swallowed). The step is read off each OAuth request (see stepOf); `enter` names the ones
 * that are not requests (the user at the authorization page).
 */
export class LoginSteps {
  private current?: { step: LoginStep; url: string };
  private lastAnswer?: string;

  /** A new login: nothing under way yet. */
  reset(): void {
    this.current = undefined;
    this.lastAnswer = undefined;
  }

  enter(step: LoginStep, url: string): void {
    if (this.current?.step !== step) this.lastAnswer = undefined;
    this.current = { step, url };
  }

  /** The OAuth fetch, noting each request's step and each unsuccessful answer. */
  fetch(base: FetchLike, namedResourceMetadata: () => string | undefined = () => undefined): FetchLike {
    return async (input, init) => {
      const url = String(input instanceof URL ? input.href : input);
      const step = url === namedResourceMetadata() ? 'protected-resource metadata' : stepOf(url, init);
      if (step) this.enter(step, url);
      const response = await base(input, init);
      if (step && !response.ok) this.lastAnswer = answerInWords(response, url);
      return response;
    };
  }

  /**
   * The error a failed login ends with, its class kept (callers tell transient from fatal by
   * it): `<server>: <step> at <host> failed: <reason>`, the reason never empty.
   */
  explain(serverName: string, error: unknown): Error {
    const clean = sanitize(error);
    const said = clean.message.trim();
    const reason = [said, this.lastAnswer && !said.includes(this.lastAnswer) ? (said ? `(${this.lastAnswer})` : this.lastAnswer) : '']
      .filter(Boolean)
      .join(' ');
    const why = reason || `${clean.name} without a reason`;
    if (!this.current) {
      clean.message = `${serverName}: login failed: ${why}`;
      return clean;
    }
    const { step, url } = this.current;
    clean.message = `${serverName}: ${step} at ${hostOf(url)} failed: ${why}`;
    return clean;
  }
}

/**
 * The step an OAuth request belongs to: by the well-known URL of a metadata document
 * (RFC 9728 §3, RFC 8414 §3, OpenID Discovery §4), a JSON POST (registration, RFC 7591 §3.1)
 * or a form POST with a `grant_type` (token, RFC 6749 §3.2); undefined for anything else.
 */
export function stepOf(url: string, init?: RequestInit): LoginStep | undefined {
  const path = new URL(url).pathname;
  if (path.includes('/.well-known/oauth-protected-resource')) return 'protected-resource metadata';
  if (path.includes('/.well-known/oauth-authorization-server') || path.includes('/.well-known/openid-configuration'))
    return 'authorization-server metadata';
  if ((init?.method ?? 'GET').toUpperCase() !== 'POST') return undefined;
  const contentType = new Headers(init?.headers).get('content-type') ?? '';
  if (contentType.includes('application/json')) return 'registration';
  if (init?.body instanceof URLSearchParams && init.body.has('grant_type')) return 'token';
  return undefined;
}

function answerInWords(response: Response, url: string): string {
  const where = new URL(url);
  const location = response.status >= 300 && response.status < 400 ? response.headers.get('location') : null;
  if (location) {
    const target = new URL(location, where);
    if (target.origin !== where.origin)
      return `redirected to another origin (${target.origin}) (not followed) by ${where.origin}${where.pathname}`;
  }
  return `HTTP ${response.status} from ${where.origin}${where.pathname}`;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
