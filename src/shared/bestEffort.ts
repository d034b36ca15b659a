/**
 * Work whose failure changes nothing, named so that each use says why it may fail quietly:
 * a message to a peer that may have gone away, the cleanup of something already broken, the
 * unread rest of an HTTP answer. Anything whose failure the user should hear of does not
 * belong here.
 */

/** Starts `work` and forgets it: a send to a client or server that may be gone by now. */
export function ignoreFailure(work: Promise<unknown>): void {
  work.catch(noop);
}

/** Waits for `work` to end, however it ends: a close or cleanup on the way out. */
export async function settled(work: Promise<unknown> | undefined): Promise<void> {
  await work?.catch(noop);
}

/** Lets go of an answer's body that will not be read, so its connection can be reused or closed. */
export async function discardBody(response: Response): Promise<void> {
  await settled(response.body?.cancel());
}

function noop(): void {}
