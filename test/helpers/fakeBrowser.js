#!/usr/bin/env node
// A stand-in browser for tests, used as MCP_GATEWAY_BROWSER: it is given the authorization
// URL, records that it was launched (one line per launch in $FAKE_BROWSER_LOG), then plays
// the user: follows the authorization server's redirects (its auto-approve mode) to the
// gateway's loopback callback, unless $FAKE_BROWSER_MODE says otherwise:
//   approve (default) | ignore (never finishes) | tamper-state (sends a wrong state first)
// ($FAKE_BROWSER_DELAY_MS: it waits that long first, a user slow to approve.)
// With $FAKE_BROWSER_PAGES it appends the last page it was shown to that file.
import { appendFileSync } from 'node:fs';

const url = process.argv[2];
if (process.env.FAKE_BROWSER_LOG) appendFileSync(process.env.FAKE_BROWSER_LOG, `${url}\n`);
const mode = process.env.FAKE_BROWSER_MODE ?? 'approve';
if (mode === 'ignore') process.exit(0);
// A user who takes a while to approve ($FAKE_BROWSER_DELAY_MS).
if (process.env.FAKE_BROWSER_DELAY_MS) await new Promise((resolve) => setTimeout(resolve, Number(process.env.FAKE_BROWSER_DELAY_MS)));

let next = url;
for (let hop = 0; hop < 10; hop++) {
  const target = new URL(next);
  if (mode === 'tamper-state' && target.pathname === '/callback') {
    const forged = new URL(target);
    forged.searchParams.set('state', 'forged');
    const answer = await fetch(forged);
    if (process.env.FAKE_BROWSER_LOG) appendFileSync(process.env.FAKE_BROWSER_LOG, `forged-state-answer ${answer.status}\n`);
  }
  const response = await fetch(target, { redirect: 'manual' });
  const location = response.headers.get('location');
  if (!location) {
    if (process.env.FAKE_BROWSER_LOG) appendFileSync(process.env.FAKE_BROWSER_LOG, `final ${response.status} ${target.pathname}\n`);
    // FAKE_BROWSER_PAGES: the last page shown (the callback page), for tests of what it says.
    if (process.env.FAKE_BROWSER_PAGES) appendFileSync(process.env.FAKE_BROWSER_PAGES, `${await response.text()}\n`);
    break;
  }
  next = new URL(location, target).href;
}
