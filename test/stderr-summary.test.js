// Which stderr line explains a stdio server's failure, on real outputs of npx, npm, Python,
// uv and Node (copied from their terminals, paths shortened).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { meaningfulStderrLine } from '../dist/downstream/stderrSummary.js';
import { StderrTail } from '../dist/downstream/stdioTransport.js';

const lines = (text) => text.replace(/^\n/, '').split('\n');

test('npx of a package that does not exist (npm 10): the 404 line that names the URL, not the log hint', () => {
  const out = lines(`
npm error code E404
npm error 404 Not Found - GET https://registry.npmjs.org/@modelcontextprotocol%2fserver-nonexistent - Not found
npm error 404
npm error 404  '@modelcontextprotocol/server-nonexistent@*' is not in this registry.
npm error 404
npm error 404 Note that you can also install from a
npm error 404 tarball, folder, http url, or git url.
npm error A complete log of this run can be found in: /home/me/.npm/_logs/2025-05-01T10_00_00_000Z-debug-0.log`);
  assert.equal(
    meaningfulStderrLine(out),
    'npm error 404 Not Found - GET https://registry.npmjs.org/@modelcontextprotocol%2fserver-nonexistent - Not found',
  );
});

test('the same with npm 8 (npm ERR!, the log path on a line of its own)', () => {
  const out = lines(`
npm ERR! code E404
npm ERR! 404 Not Found - GET https://registry.npmjs.org/mcp-server-nope - Not found
npm ERR! 404 
npm ERR! 404  'mcp-server-nope@*' is not in this registry.
npm ERR! 404 You should bug the author to publish it (or use the name yourself!)
npm ERR! 404 
npm ERR! 404 Note that you can also install from a
npm ERR! 404 tarball, folder, http url, or git url.

npm ERR! A complete log of this run can be found in:
npm ERR!     /home/me/.npm/_logs/2023-02-01T10_00_00_000Z-debug-0.log
`);
  assert.equal(meaningfulStderrLine(out), 'npm ERR! 404 Not Found - GET https://registry.npmjs.org/mcp-server-nope - Not found');
});

test('npx without a network: the request that failed and why', () => {
  const out = lines(`
npm error code ENOTFOUND
npm error syscall getaddrinfo
npm error errno ENOTFOUND
npm error network request to https://registry.npmjs.org/@modelcontextprotocol%2fserver-memory failed, reason: getaddrinfo ENOTFOUND registry.npmjs.org
npm error network This is a problem related to network connectivity.
npm error network In most cases you are behind a proxy or have bad network settings.
npm error network
npm error network If you are behind a proxy, please make sure that the
npm error network 'proxy' config is set properly.  See: 'npm help config'
npm error A complete log of this run can be found in: /home/me/.npm/_logs/2025-05-01T10_00_00_000Z-debug-0.log`);
  assert.match(
    meaningfulStderrLine(out),
    /^npm error network request to https:\/\/registry\.npmjs\.org\/\S+ failed, reason: getaddrinfo ENOTFOUND/,
  );
});

test('npx of a package without a binary', () => {
  const out = lines(`
npm error could not determine executable to run
npm error A complete log of this run can be found in: /home/me/.npm/_logs/2025-05-01T10_00_00_000Z-debug-0.log`);
  assert.equal(meaningfulStderrLine(out), 'npm error could not determine executable to run');
});

test('only an error code and the log hint: the code, which is still better than the hint', () => {
  const out = lines(`
npm error code E404
npm error A complete log of this run can be found in: /home/me/.npm/_logs/x-debug-0.log`);
  assert.equal(meaningfulStderrLine(out), 'npm error code E404');
});

test('a Python traceback: its exception line, after the frames', () => {
  const out = lines(`
Traceback (most recent call last):
  File "/home/me/srv/server.py", line 3, in <module>
    from mcp.server.fastmcp import FastMCP
ModuleNotFoundError: No module named 'mcp'`);
  assert.equal(meaningfulStderrLine(out), "ModuleNotFoundError: No module named 'mcp'");
});

test('chained Python exceptions: the one raised last', () => {
  const out = lines(`
INFO:root:starting
Traceback (most recent call last):
  File "/srv/server.py", line 10, in load
    return json.load(f)
json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/srv/server.py", line 20, in <module>
    config = load()
  File "/srv/server.py", line 12, in load
    raise RuntimeError("config.json is not valid JSON")
RuntimeError: config.json is not valid JSON`);
  assert.equal(meaningfulStderrLine(out), 'RuntimeError: config.json is not valid JSON');
});

test('a Python syntax error (no traceback header)', () => {
  const out = lines(`
  File "/srv/server.py", line 3
    def broken(
              ^
SyntaxError: '(' was never closed`);
  assert.equal(meaningfulStderrLine(out), "SyntaxError: '(' was never closed");
});

test('uv run of a command that does not exist: the error with its cause', () => {
  const out = lines(`
error: Failed to spawn: \`mcp-server-nope\`
  Caused by: No such file or directory (os error 2)`);
  assert.equal(meaningfulStderrLine(out), 'error: Failed to spawn: `mcp-server-nope`; Caused by: No such file or directory (os error 2)');
});

test('uvx of a package that is not in the index: the line that says so, without the box drawing', () => {
  const out = lines(`
  × No solution found when resolving tool dependencies:
  ╰─▶ Because mcp-server-nope was not found in the package registry and you require mcp-server-nope, we can conclude that your requirements are unsatisfiable.`);
  assert.equal(
    meaningfulStderrLine(out),
    'Because mcp-server-nope was not found in the package registry and you require mcp-server-nope, we can conclude that your requirements are unsatisfiable.',
  );
});

test('node on a missing file: the Error line, not the stack, the object dump or the version', () => {
  const out = lines(`
node:internal/modules/cjs/loader:1228
  throw err;
  ^

Error: Cannot find module '/srv/mcp/server.js'
    at Module._resolveFilename (node:internal/modules/cjs/loader:1225:15)
    at Module._load (node:internal/modules/cjs/loader:1051:27)
    at node:internal/main/run_main_module:28:49 {
  code: 'MODULE_NOT_FOUND',
  requireStack: []
}

Node.js v20.11.0`);
  assert.equal(meaningfulStderrLine(out), "Error: Cannot find module '/srv/mcp/server.js'");
});

test('an error logged among info lines wins over the lines after it', () => {
  const out = lines(`
[info] starting weather server
[error] OPENWEATHER_API_KEY is not set
[info] shutting down`);
  assert.equal(meaningfulStderrLine(out), '[error] OPENWEATHER_API_KEY is not set');
});

test('nothing that looks like an error: the last line that is not blank', () => {
  assert.equal(meaningfulStderrLine(['listening', 'bye', '', '   ']), 'bye');
  assert.equal(meaningfulStderrLine([]), undefined);
  assert.equal(meaningfulStderrLine(['', '  ']), undefined);
});

test('StderrTail keeps the last 20 lines and finds the meaningful one among them', () => {
  const tail = new StderrTail();
  tail.push('fatal: the first line, pushed out by the 20 after it');
  for (let i = 0; i < 20; i++) tail.push(`progress ${i}`);
  assert.equal(tail.meaningful(), 'progress 19');
  tail.push('npm error 404 Not Found - GET https://registry.npmjs.org/x - Not found');
  tail.push('npm error A complete log of this run can be found in: /tmp/x.log');
  assert.equal(tail.last(), 'npm error A complete log of this run can be found in: /tmp/x.log');
  assert.equal(tail.meaningful(), 'npm error 404 Not Found - GET https://registry.npmjs.org/x - Not found');
});
