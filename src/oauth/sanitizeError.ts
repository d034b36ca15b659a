import { redact } from '../log/redact.js';
import { UnsafeAuthorizationServerError } from '../shared/errors.js';

const MAX_ERROR_LENGTH = 400;

/**
 * An error fit to log and show: the SDK's errors can carry the authorization server's raw
 * response body, so the message is redacted and cut short (an error page must not flood the
 * log); the SDK's schema failures (zod issues) are said in words, naming the fields.
 */
export function sanitize(error: unknown): Error {
  const issues = (error as { issues?: Array<{ path: PropertyKey[]; message: string }> })?.issues;
  if (Array.isArray(issues)) {
    const what = issues.slice(0, 3).map((issue) => `${issue.path.map(String).join('.') || '(the whole answer)'}: ${issue.message}`);
    return new UnsafeAuthorizationServerError(
      clean(`an answer from the authorization server does not have the required form (${what.join('; ')})`),
    );
  }
  if (!(error instanceof Error)) return new Error(clean(String(error)));
  try {
    error.message = clean(error.message);
    return error;
  } catch {
    // A read-only message: a copy carries the clean one.
    const copy = new Error(clean(error.message));
    copy.name = error.name;
    return copy;
  }
}

function clean(text: string): string {
  const redacted = redact(text);
  return redacted.length > MAX_ERROR_LENGTH ? `${redacted.slice(0, MAX_ERROR_LENGTH)}… (cut)` : redacted;
}
