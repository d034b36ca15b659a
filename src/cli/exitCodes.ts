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
