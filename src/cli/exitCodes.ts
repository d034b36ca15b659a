import { GatewayError, type GatewayErrorCode } from '../shared/errors.js';

/** What the gateway's exit status means, for scripts and service managers. */
export const ExitCode = {
  /** Everything asked for worked (for `list`: every enabled server is ready). */
  Ok: 0,
  /** The command ran, but something it reports failed (for `list`: a server is not ready). */
  SomeServersNotReady: 1,
  /** Bad usage or a bad config file: nothing was started. */
  UsageOrConfig: 2,
  /** An unexpected internal error. */
  Internal: 70,
} as const;

/** The gateway's errors that mean the command was given something wrong: its arguments, a passphrase, the config, the access rules, an export file. */
const USAGE_OR_CONFIG: ReadonlySet<GatewayErrorCode> = new Set<GatewayErrorCode>([
  'usage',
  'passphrase_invalid',
  'config_invalid',
  'config_not_found',
  'rules_invalid',
  'bundle_invalid',
]);

/**
 * The exit status for an error a command ended with: 2 for usage and config errors; 1 for the
 * gateway's other errors (each says what is wrong and what to do: a store that cannot be used,
 * a login that failed); 70 for anything else, which is a bug.
 */
export function exitCodeFor(error: unknown): (typeof ExitCode)[keyof typeof ExitCode] {
  if (!(error instanceof GatewayError)) return ExitCode.Internal;
  return USAGE_OR_CONFIG.has(error.code) ? ExitCode.UsageOrConfig : ExitCode.SomeServersNotReady;
}
