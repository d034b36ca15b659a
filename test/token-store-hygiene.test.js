// Every read of the token store checks it (issue 14): directories 0700 and files 0600 (wider
// modes fixed with a warning naming the file), owned by the user, not symbolic links (refused,
// nothing read or written through one); temporary files an interrupted write left are removed
// at start. Real files in a temporary store; a real `gateway serve` for the warnings on stderr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { TokenStore } from '../dist/oauth/tokenStore.js';
import { EncryptedFileBackend } from '../dist/oauth/storage/encryptedFileBackend.js';
import { checkPrivateFile } from '../dist/oauth/storeHygiene.js';
import { Logger } from '../dist/log/logger.js';
import { tempDir, runCli, writeConfig } from './helpers/gatewayProcess.js';

const URL_A = 'https://mcp.example.test/mcp';
const tokens = (access = 'at_0123456789abcdef') => ({ access_token: access, token_type: 'Bearer', obtained_at: Date.now() });
const mode = (path) => statSync(path).mode & 0o777;
const isRoot = process.getuid?.() === 0;

function storeWithLog(root, backend) {
  const lines = [];
  const log = new Logger({ level: 'info', sink: (line) => lines.push(line) });
  return { store: new TokenStore(root, log, backend), lines };
}

test('wider modes are set to 0700 and 0600 on read, each with a warning naming the file; the tokens are read', async () => {
  const root = tempDir('gw-hygiene-');
  await new TokenStore(root).writeTokens(URL_A, tokens());
  const { store, lines } = storeWithLog(root);
  const dir = store.dirFor(URL_A);
  chmodSync(join(root, 'servers'), 0o755);
  chmodSync(dir, 0o777);
  chmodSync(join(dir, 'tokens.json'), 0o644);
  chmodSync(join(dir, 'server.json'), 0o666);
  assert.equal((await store.readTokens(URL_A)).access_token, 'at_0123456789abcdef');
  assert.equal(mode(join(root, 'servers')), 0o700);
  assert.equal(mode(dir), 0o700);
  assert.equal(mode(join(dir, 'tokens.json')), 0o600);
  const warnings = lines.join('');
  assert.match(warnings, new RegExp(`${join(dir, 'tokens.json')} was readable or writable by others \\(mode 0644\\); set it to 0600`));
  assert.match(warnings, new RegExp(`${dir} was open to others \\(mode 0777\\); set it to 0700`));
  assert.match(warnings, new RegExp(`${join(root, 'servers')} was open to others \\(mode 0755\\)`));
  await store.listServers();
  assert.equal(mode(join(dir, 'server.json')), 0o600, 'server.json too');
});

test('a symbolic link in place of a token file or a server directory is refused: nothing read or written through it', async () => {
  const root = tempDir('gw-hygiene-');
  const store = new TokenStore(root);
  await store.writeTokens(URL_A, tokens());
  const dir = store.dirFor(URL_A);
  const elsewhere = tempDir('gw-elsewhere-');
  const planted = join(elsewhere, 'planted.json');
  writeFileSync(planted, JSON.stringify(tokens('at_planted_by_someone')), { mode: 0o600 });
  renameSync(join(dir, 'tokens.json'), join(elsewhere, 'moved.json'));
  symlinkSync(planted, join(dir, 'tokens.json'));
  await assert.rejects(store.readTokens(URL_A), /tokens\.json is a symbolic link; the token store does not follow links .*remove it/);
  await assert.rejects(store.writeTokens(URL_A, tokens('at_new_0123456789')), /is a symbolic link/);
  assert.match(readFileSync(planted, 'utf8'), /at_planted_by_someone/, 'the link target is untouched');

  // The whole server directory a link to another one.
  const other = tempDir('gw-otherdir-');
  const root2 = tempDir('gw-hygiene-');
  const store2 = new TokenStore(root2);
  mkdirSync(join(root2, 'servers'), { recursive: true, mode: 0o700 });
  symlinkSync(other, store2.dirFor(URL_A));
  await assert.rejects(store2.readTokens(URL_A), /is a symbolic link/);
  await assert.rejects(store2.writeTokens(URL_A, tokens()), /is a symbolic link/);
  await assert.rejects(store2.writeMeta(URL_A, 'browser', '{}'), /is a symbolic link/);
  await assert.rejects(
    store2.withLock(URL_A, async () => 'ran'),
    /is a symbolic link/,
  );
  assert.deepEqual(readdirSync(other), [], 'nothing was written through the link');
});

test('the encrypted store checks its files the same way', async () => {
  const root = tempDir('gw-hygiene-');
  const key = randomBytes(32);
  const { store, lines } = storeWithLog(root, new EncryptedFileBackend(async () => key));
  await store.writeTokens(URL_A, tokens());
  chmodSync(join(store.dirFor(URL_A), 'tokens.json'), 0o640);
  assert.equal((await store.readTokens(URL_A)).access_token, 'at_0123456789abcdef');
  assert.match(lines.join(''), /tokens\.json was readable or writable by others \(mode 0640\); set it to 0600/);
  const planted = join(tempDir('gw-elsewhere-'), 'x.json');
  writeFileSync(planted, '{}');
  renameSync(join(store.dirFor(URL_A), 'tokens.json'), `${planted}.old`);
  symlinkSync(planted, join(store.dirFor(URL_A), 'tokens.json'));
  await assert.rejects(store.readTokens(URL_A), /is a symbolic link/);
});

test('a file owned by another user is refused with what to do (the check, with another uid as the user)', async () => {
  const path = join(tempDir('gw-hygiene-'), 'tokens.json');
  writeFileSync(path, '{}', { mode: 0o600 });
  const me = statSync(path).uid;
  await checkPrivateFile(path, { uid: me });
  await assert.rejects(
    checkPrivateFile(path, { uid: me + 1 }),
    new RegExp(
      `tokens\\.json is owned by another user \\(uid ${me}; this is uid ${me + 1}\\).*Remove it .* or give it to this user \\(chown\\)`,
    ),
  );
});

test(
  'a token file really owned by another user is refused for reading and writing',
  { skip: !isRoot && 'needs root to chown a file to another user' },
  async () => {
    const root = tempDir('gw-hygiene-');
    const store = new TokenStore(root);
    await store.writeTokens(URL_A, tokens());
    const file = join(store.dirFor(URL_A), 'tokens.json');
    chownSync(file, 65534, 65534);
    await assert.rejects(store.readTokens(URL_A), /is owned by another user \(uid 65534; this is uid 0\)/);
    await assert.rejects(store.writeTokens(URL_A, tokens('at_other_0123456789')), /owned by another user/);
    assert.equal(statSync(file).uid, 65534, 'left as it was');
  },
);

test('temporary files an interrupted write left are removed at start; a fresh one (a write in progress) is kept', async () => {
  const root = tempDir('gw-hygiene-');
  await new TokenStore(root).writeTokens(URL_A, tokens());
  const dir = new TokenStore(root).dirFor(URL_A);
  const old = join(dir, '.0123456789ab.tmp');
  const fresh = join(dir, '.ba9876543210.tmp');
  writeFileSync(old, '{"access_token":"half-writ');
  writeFileSync(fresh, '{"access_token":"in-progr');
  const past = new Date(Date.now() - 5 * 60_000);
  utimesSync(old, past, past);
  const { store, lines } = storeWithLog(root);
  await store.readTokens(URL_A);
  assert.ok(!existsSync(old), 'the leftover is gone');
  assert.ok(existsSync(fresh), 'a write in progress is not disturbed');
  assert.match(lines.join(''), /removed .*\.0123456789ab\.tmp, left by an interrupted write/);
});

test('gateway auth status (a child process): a 0644 token file is set to 0600; a linked one is refused with the reason, nothing read through it', async () => {
  const home = tempDir('gw-hygiene-home-');
  const url = 'http://127.0.0.1:9/mcp';
  const store = new TokenStore(home);
  await store.writeTokens(url, tokens());
  const file = join(store.dirFor(url), 'tokens.json');
  chmodSync(file, 0o644);
  const config = writeConfig({ mcpServers: { remote: { url, oauth: { clientId: 'c' } } } });
  const env = { MCP_GATEWAY_HOME: home, MCP_GATEWAY_BROWSER: '/bin/false' };
  const first = await runCli(['auth', 'status', '--config', config], { env });
  assert.equal(mode(file), 0o600, first.stdout + first.stderr);
  const planted = join(tempDir('gw-elsewhere-'), 'p.json');
  writeFileSync(planted, JSON.stringify(tokens('at_planted_0123456789')));
  renameSync(file, `${planted}.moved`);
  symlinkSync(planted, file);
  const second = await runCli(['auth', 'status', '--config', config], { env });
  assert.match(second.stdout + second.stderr, /tokens\.json is a symbolic link/);
  assert.ok(!(second.stdout + second.stderr).includes('at_planted'), 'nothing read through it');
});
