/**
 * Gives every request its own AbortSignal, linked to the caller's.
 *
 * Why: the SDK's HTTP transports pass one long-lived AbortSignal (the transport's) to
 * every fetch. undici's fetch adds an abort listener to the signal it is given and
 * removes it only when the request object is garbage-collected, so thousands of calls
 * on one connection pile up listeners and Node warns `MaxListenersExceededWarning`.
 * Here the long-lived signal gets a single listener, however many requests are in flight;
 * each request's own controller is dropped from it as soon as its response body is
 * finished, cancelled or failed.
 */
export type FetchLike = (url: string | URL, init?: RequestInit) => Promise<Response>;

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

export function fetchWithOwnSignal(baseFetch: FetchLike): FetchLike {
  return async (url, init) => {
    const parent = init?.signal;
    if (!parent) return baseFetch(url, init);
    parent.throwIfAborted();
    const own = new AbortController();
    const release = linkToParent(parent, own);
    let response: Response;
    try {
      response = await baseFetch(url, { ...init, signal: own.signal });
    } catch (error) {
      release();
      throw error;
    }
    if (!response.body || NULL_BODY_STATUS.has(response.status)) {
      release();
      return response;
    }
    return withReleaseOnBodyEnd(response, release);
  };
}

/** In-flight controllers per long-lived parent signal, aborted together by one listener. */
const children = new WeakMap<AbortSignal, Set<AbortController>>();

function linkToParent(parent: AbortSignal, own: AbortController): () => void {
  let set = children.get(parent);
  if (!set) {
    const created = new Set<AbortController>();
    set = created;
    children.set(parent, created);
    parent.addEventListener(
      'abort',
      () => {
        for (const controller of created) controller.abort(parent.reason);
        created.clear();
      },
      { once: true },
    );
  }
  set.add(own);
  const linked = set;
  return () => linked.delete(own);
}

function withReleaseOnBodyEnd(response: Response, release: () => void): Response {
  const reader = response.body!.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          release();
          controller.close();
        } else {
          controller.enqueue(value);
        }
      } catch (error) {
        release();
        controller.error(error);
      }
    },
    cancel(reason) {
      release();
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}
