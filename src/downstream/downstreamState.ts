/** Where one downstream server stands, as `gateway list` and the upstream see it. */
export type DownstreamState =
  | { status: 'disabled' }
  | { status: 'connecting' }
  | { status: 'ready' }
  | { status: 'needs-auth'; reason: string; authorizationUrl?: string }
  | { status: 'failed'; reason: string };

export function describeState(state: DownstreamState): string {
  switch (state.status) {
    case 'failed':
      return `failed: ${state.reason}`;
    case 'needs-auth':
      return `needs-auth: ${state.reason}${state.authorizationUrl ? ` (open ${state.authorizationUrl})` : ''}`;
    default:
      return state.status;
  }
}
