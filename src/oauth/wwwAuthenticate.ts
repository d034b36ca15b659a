/**
 * Parses a WWW-Authenticate header (RFC 9110 §11.6.1) into challenges. Quoted strings may
 * hold commas, `=`, `scope=`-like text and escaped quotes; several challenges may share one
 * header. Unlike a regex over the raw header, a parameter is only ever read from its own
 * challenge and never from inside another parameter's quoted value.
 */
export interface AuthChallenge {
  scheme: string;
  params: Record<string, string>;
  token68?: string;
}

const TOKEN = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

export function parseWwwAuthenticate(header: string | null | undefined): AuthChallenge[] {
  if (!header) return [];
  const challenges: AuthChallenge[] = [];
  let i = 0;
  const n = header.length;
  const skipSpace = () => {
    while (i < n && (header[i] === ' ' || header[i] === '\t')) i++;
  };
  const readToken = () => {
    const start = i;
    while (i < n && TOKEN.test(header[i]!)) i++;
    return header.slice(start, i);
  };
  const readQuoted = () => {
    let out = '';
    i++; // opening quote
    while (i < n && header[i] !== '"') {
      if (header[i] === '\\' && i + 1 < n) i++;
      out += header[i];
      i++;
    }
    i++; // closing quote
    return out;
  };

  while (i < n) {
    skipSpace();
    while (i < n && header[i] === ',') {
      i++;
      skipSpace();
    }
    const scheme = readToken();
    if (!scheme) {
      i++; // skip garbage
      continue;
    }
    const challenge: AuthChallenge = { scheme: scheme.toLowerCase(), params: {} };
    challenges.push(challenge);
    skipSpace();
    // token68 (e.g. `Basic dXNlcg==`): a token followed by optional '=' padding, then end or comma.
    const save = i;
    const maybe = /^[A-Za-z0-9\-._~+/]+=*/.exec(header.slice(i));
    if (maybe && /^\s*(,|$)/.test(header.slice(i + maybe[0].length))) {
      challenge.token68 = maybe[0];
      i += maybe[0].length;
      continue;
    }
    i = save;
    // auth-params until the next challenge (a token not followed by '=').
    for (;;) {
      skipSpace();
      const paramStart = i;
      const name = readToken();
      if (!name) break;
      skipSpace();
      if (header[i] !== '=') {
        i = paramStart; // the start of the next challenge
        break;
      }
      i++;
      skipSpace();
      const value = header[i] === '"' ? readQuoted() : readToken();
      challenge.params[name.toLowerCase()] = value;
      skipSpace();
      if (header[i] === ',') {
        i++;
        continue;
      }
      break;
    }
  }
  return challenges;
}

/** The Bearer challenge's parameters that OAuth discovery uses. */
export function bearerChallenge(
  header: string | null | undefined,
): { resourceMetadata?: string; scope?: string; error?: string } | undefined {
  const bearer = parseWwwAuthenticate(header).find((c) => c.scheme === 'bearer');
  if (!bearer) return undefined;
  return { resourceMetadata: bearer.params.resource_metadata, scope: bearer.params.scope, error: bearer.params.error };
}
