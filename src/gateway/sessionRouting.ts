import type { RequestId } from '@modelcontextprotocol/sdk/types.js';

/** A call in flight to a server: the id the server knows it by (`gw-N`, N rising with each call) and the client's own. */
export interface CallInFlight {
  id: string;
  upstreamId: RequestId;
}

/** A session that could take a server's request (it declared the capability), with its calls in flight to that server, oldest first. */
export interface Candidate {
  session: string;
  calls: readonly CallInFlight[];
}

export interface Choice {
  session: string;
  /** The call the request is taken to belong to (over HTTP it goes on that call's stream). */
  call?: CallInFlight;
}

const order = (call: CallInFlight) => Number(call.id.slice(call.id.lastIndexOf('-') + 1));

/**
 * Which session a server's own request (sampling, elicitation, roots) goes to. Nothing in
 * the protocol says which call a request belongs to (a stdio server just writes it), so:
 * - only one session has calls in flight to the server: that one;
 * - several do: the session of the oldest call that has not yet made a request (`attributed`
 *   holds the calls that have), as a server works through calls in the order they came;
 *   when every call has made one, the session of the newest call;
 * - none does (a server asking on its own): the first session, in the order they connected.
 * Candidates are in the order the sessions connected.
 */
export function chooseSession(candidates: readonly Candidate[], attributed: ReadonlySet<string>): Choice | undefined {
  const busy = candidates.filter((candidate) => candidate.calls.length);
  if (!busy.length) return candidates[0] && { session: candidates[0].session };
  const calls = busy
    .flatMap((candidate) => candidate.calls.map((call) => ({ session: candidate.session, call })))
    .sort((a, b) => order(a.call) - order(b.call));
  return calls.find(({ call }) => !attributed.has(call.id)) ?? calls[calls.length - 1];
}
