import type * as HttpTransportModule from './httpTransport.js';

let httpTransports: typeof HttpTransportModule | undefined;

/** HTTP support (undici, the SDK's HTTP transports, OAuth) is loaded only when a server needs it. */
export async function loadHttpTransports(): Promise<typeof HttpTransportModule> {
  httpTransports ??= await import('./httpTransport.js');
  return httpTransports;
}

/** The HTTP status an error from an HTTP transport carries (none before HTTP support is loaded: no HTTP server ran). */
export function httpStatusOf(error: unknown): number | undefined {
  return httpTransports?.httpStatusOf(error);
}
