/** Where one downstream server stands, as `gateway list` and the upstream see it. */
export type DownstreamState =
  | { status: 'disabled' }
  | { status: 'connecting' }
  | { status: 'ready' }
  | { status: 'needs-auth'; reason: string; authorizationUrl?: string }
  /** It was ready and went away; the gateway is connecting it again (its tools stay listed). */
  | { status: 'reconnecting'; reason: string; attempt: number; nextAttemptAt: number }
  | { status: 'failed'; reason: string };

export function describeState(state: DownstreamState): string {
  switch (state.status) {
    case 'failed':
      return `failed: ${state.reason}`;
    case 'needs-auth':
      return `needs-auth: ${state.reason}${state.authorizationUrl ? ` (open ${state.authorizationUrl})` : ''}`;
    case 'reconnecting': {
      const wait = Math.max(0, Math.ceil((state.nextAttemptAt - Date.now()) / 1000));
      return `reconnecting (attempt ${state.attempt}${wait ? `, next in ${wait} s` : ''}): ${state.reason}`;
    }
    default:
      return state.status;
  }
}
