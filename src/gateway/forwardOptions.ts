import type { RequestHandlerExtra, RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { ServerNotification, ServerRequest, ClientNotification, ClientRequest } from '@modelcontextprotocol/sdk/types.js';
import { ignoreFailure } from '../shared/bestEffort.js';

type AnyExtra = RequestHandlerExtra<ServerRequest | ClientRequest, ServerNotification | ClientNotification>;

/**
 * Options for passing a request on to the other side: the asker's cancellation becomes the
 * forwarded request's, and progress the other side reports goes back under the asker's own
 * progress token (and keeps the forwarded request's timeout from running out).
 */
export function forwardOptions(extra: AnyExtra, timeout?: number): RequestOptions {
  const token = extra._meta?.progressToken;
  return {
    signal: extra.signal,
    ...(timeout !== undefined ? { timeout, resetTimeoutOnProgress: true } : {}),
    ...(token !== undefined
      ? {
          onprogress: (progress) =>
            ignoreFailure(
              extra.sendNotification({ method: 'notifications/progress', params: { ...progress, progressToken: token } } as never),
            ),
        }
      : {}),
  };
}
