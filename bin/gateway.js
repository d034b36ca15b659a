#!/usr/bin/env node
// Entry point for `gateway` / `mcp-oauth-gateway`: loads the compiled CLI, bundled into one
// file (dist/gateway.mjs) so that a client's `initialize` is answered sooner after spawn.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/gateway.mjs', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('gateway: dist/ is missing; run `npm install` (or `npm run build`) in the package directory first.\n');
  process.exit(70);
}
const { main } = await import(entry.href);
await main(process.argv);
