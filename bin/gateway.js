#!/usr/bin/env node
// Entry point for `gateway` / `mcp-oauth-gateway`: loads the compiled CLI, bundled (dist/bundle/)
// so that a client's `initialize` is answered sooner after spawn; what only some commands or
// HTTP servers need sits in chunks loaded when first used.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/bundle/gateway.mjs', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('gateway: dist/ is missing; run `npm install` (or `npm run build`) in the package directory first.\n');
  process.exit(70);
}
const { main } = await import(entry.href);
await main(process.argv);
