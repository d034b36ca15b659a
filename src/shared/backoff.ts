/**
 * The one backoff policy: exponential with "equal jitter" (half of each delay fixed, half
 * random; https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/). Attempt
 * 0 waits between `baseMs`/2 and `baseMs`; each attempt doubles the ceiling, up to `maxMs`.
 * The fixed half keeps a retry from coming at once; the random half keeps many processes
 * (a crash loop, five gateways on one token) from retrying in step.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
  return ceiling / 2 + random() * (ceiling / 2);
}
