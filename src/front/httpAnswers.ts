import type { IncomingMessage, ServerResponse } from 'node:http';

/** The largest request body read (as the SDK's own transport bounds it). */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }).end(JSON.stringify(body));
}

/** A JSON-RPC error outside any request (the transport's own form, `id: null`). */
export function sendRpcError(res: ServerResponse, status: number, code: number, message: string, headers?: Record<string, string>): void {
  sendJson(res, status, { jsonrpc: '2.0', error: { code, message }, id: null }, headers);
}

/** The body as JSON: `{ value }`, or why it could not be read (too large, not JSON). */
export async function readJsonBody(req: IncomingMessage): Promise<{ value: unknown } | { status: number; message: string }> {
  const declared = Number(req.headers['content-length']);
  if (declared > MAX_BODY_BYTES) return { status: 413, message: `the request body is over ${MAX_BODY_BYTES} bytes` };
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return { status: 413, message: `the request body is over ${MAX_BODY_BYTES} bytes` };
    chunks.push(chunk);
  }
  try {
    return { value: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } catch {
    return { status: 400, message: 'Parse error: the body is not JSON' };
  }
}
