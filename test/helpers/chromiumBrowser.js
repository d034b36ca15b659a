#!/usr/bin/env node
// A real browser for the end-to-end test, used as MCP_GATEWAY_BROWSER: headless Debian
// Chromium driven by playwright-core opens the authorization URL, clicks Approve on the
// consent page and writes the page it lands on (the gateway's) to $CHROMIUM_RESULT.
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const url = process.argv[2];
const result = process.env.CHROMIUM_RESULT;
const profile = mkdtempSync(join(tmpdir(), 'gw-chromium-'));
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = await context.newPage();
  await page.goto(url);
  await page.click('#approve');
  await page.waitForURL(/127\.0\.0\.1:\d+\/callback/);
  await page.waitForSelector('#result');
  writeFileSync(
    result,
    JSON.stringify({
      url: page.url(),
      title: await page.title(),
      heading: await page.textContent('#result'),
      body: await page.textContent('body'),
    }),
  );
} catch (error) {
  writeFileSync(result, JSON.stringify({ error: String(error) }));
} finally {
  await context?.close();
  rmSync(profile, { recursive: true, force: true, maxRetries: 3 });
}
