// The error taxonomy: every gateway error has its class name, a stable code, a retry class
// and its cause; and the downstream's reading of failures (pure functions) tells each kind
// apart by class and code, never by name or message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { InvalidClientError, InvalidGrantError, ServerError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import {
  GatewayError,
  OAuthFlowError,
  UnsafeAuthorizationServerError,
  TransientAuthError,
  LoginRequiredError,
  CallbackPortInUseError,
  LockTimeoutError,
  LockUnavailableError,
  TokenStoreUnavailableError,
  BundleError,
  ConfigError,
  ConfigNotFoundError,
  RulesError,
  UsageError,
  PassphraseError,
  ServerClosedError,
  ConnectTimeoutError,
  IdentityAssertionDeniedError,
  IdentityAssertionRejectedError,
  IdentitySignInRequiredError,
  IdTokenInvalidError,
  FrontIdentityProviderError,
} from '../dist/shared/errors.js';
import {
  explainFailure,
  readRequestFailure,
  networkError,
  isAuthError,
  isLoginRequired,
  isRetryableAuthError,
  isAuthServerFailure,
  failureCode,
} from '../dist/downstream/downstreamFailures.js';
import { classifyTokenError } from '../dist/oauth/tokenErrors.js';
import { ExitCode, exitCodeFor } from '../dist/cli/exitCodes.js';

const cause = new Error('the underlying failure');
const options = { cause };

// [the error, its class name, code, retry class]
const kinds = () => [
  [
    new OAuthFlowError('access_denied', 'the authorization server refused the login: access_denied', options),
    'OAuthFlowError',
    'oauth_flow',
    'fatal',
  ],
  [
    new UnsafeAuthorizationServerError('the metadata names another issuer', options),
    'UnsafeAuthorizationServerError',
    'unsafe_authorization_server',
    'fatal',
  ],
  [
    new TransientAuthError('cannot reach https://as.example.com: ECONNREFUSED', options),
    'TransientAuthError',
    'transient_auth',
    'transient',
  ],
  [
    new LoginRequiredError('docs needs a login: run `gateway auth login docs`', 'https://as.example.com/authorize', options),
    'LoginRequiredError',
    'login_required',
    'needs-login',
  ],
  [new CallbackPortInUseError(8765, options), 'CallbackPortInUseError', 'callback_port_in_use', 'fatal'],
  [new LockUnavailableError('/store/lock', cause), 'LockUnavailableError', 'lock_unavailable', 'fatal'],
  [
    new TokenStoreUnavailableError('cannot read the OS keychain', options),
    'TokenStoreUnavailableError',
    'token_store_unavailable',
    'fatal',
  ],
  [new BundleError('wrong passphrase, or the file was altered; nothing was imported', options), 'BundleError', 'bundle_invalid', 'fatal'],
  [new ConfigError('/x/.mcp.json: mcpServers.a.url: not a URL', options), 'ConfigError', 'config_invalid', 'fatal'],
  [
    new ConfigNotFoundError('/x/.mcp.json: config file not found (given with --config)', ['/x/.mcp.json'], true, options),
    'ConfigNotFoundError',
    'config_not_found',
    'fatal',
  ],
  [new RulesError('/x/rules.json: agents: must be an object of agent ids', options), 'RulesError', 'rules_invalid', 'fatal'],
  [new UsageError('choose one of --paste and --device', options), 'UsageError', 'usage', 'fatal'],
  [new PassphraseError('the two passphrases differ', options), 'PassphraseError', 'passphrase_invalid', 'fatal'],
  [new ServerClosedError('MCP error -32000: Connection closed', options), 'ServerClosedError', 'server_closed', 'transient'],
  [
    new IdentityAssertionDeniedError('access_denied', 'the identity provider did not grant access to github (access_denied)', options),
    'IdentityAssertionDeniedError',
    'identity_assertion_denied',
    'fatal',
  ],
  [
    new IdentityAssertionRejectedError('invalid_grant', "github's authorization server refused the identity provider's grant", options),
    'IdentityAssertionRejectedError',
    'identity_assertion_rejected',
    'fatal',
  ],
  [
    new IdentitySignInRequiredError('the identity provider sign-in has expired', options),
    'IdentitySignInRequiredError',
    'identity_sign_in_required',
    'needs-login',
  ],
  [
    new IdTokenInvalidError("the identity provider's ID token was refused: it has expired", options),
    'IdTokenInvalidError',
    'id_token_invalid',
    'fatal',
  ],
  [
    new FrontIdentityProviderError('gateway.http.auth: no authorization server metadata at https://idp.example', options),
    'FrontIdentityProviderError',
    'front_identity_provider',
    'transient',
  ],
];

test('each gateway error has its class name, code, retry class, message and cause', () => {
  const codes = new Set();
  for (const [error, name, code, retry] of kinds()) {
    assert.ok(error instanceof GatewayError && error instanceof Error, name);
    assert.equal(error.name, name);
    assert.equal(error.constructor.name, name);
    assert.equal(error.code, code, name);
    assert.equal(error.retry, retry, name);
    assert.equal(error.cause, cause, `${name} passes its cause on`);
    assert.match(String(error), new RegExp(`^${name}: `), 'the name shows in logs and stack traces');
    codes.add(code);
  }
  assert.equal(codes.size, kinds().length, 'one code per class');
});

test('each gateway error keeps its message; those built from parts say what to do', () => {
  assert.equal(new CallbackPortInUseError(8765).message, 'the OAuth callback port 127.0.0.1:8765 is in use by another program');
  assert.equal(new CallbackPortInUseError(8765).port, 8765);
  assert.equal(
    new LockTimeoutError('/store/a/lock', { pid: 42 }, 61_400).message,
    'another gateway process (pid 42) has held /store/a/lock for over 61 s; if no gateway is logging in, delete that file',
  );
  assert.deepEqual(
    [new ConnectTimeoutError(1500).message, new ConnectTimeoutError(1500).code, new ConnectTimeoutError(1500).retry],
    ['did not finish connecting within 1500 ms', 'connect_timeout', 'transient'],
  );
  assert.equal(new ConnectTimeoutError(1500).name, 'ConnectTimeoutError');
  assert.equal(new LockTimeoutError('/store/a/lock', undefined, 1000).code, 'lock_timeout');
  assert.equal(new LockTimeoutError('/store/a/lock', undefined, 1000).retry, 'transient');
  assert.equal(new LockTimeoutError('/store/a/lock', undefined, 1000).name, 'LockTimeoutError');
  assert.equal(
    new LockUnavailableError('/store/a/lock', Object.assign(new Error('EROFS: read-only file system'), { code: 'EROFS' })).message,
    'cannot create the lock /store/a/lock (EROFS: read-only file system)',
  );
  assert.equal(new OAuthFlowError('invalid_iss', 'mix-up').oauthError, 'invalid_iss', 'the OAuth error beside the code');
  assert.equal(
    new LoginRequiredError('needs a login', 'https://as.example.com/authorize').authorizationUrl,
    'https://as.example.com/authorize',
  );
  const notFound = new ConfigNotFoundError('no config file found', ['/a/.mcp.json', '/b/config.json'], false);
  assert.ok(notFound instanceof ConfigError, 'a missing config is a config error (exit 2)');
  assert.deepEqual([notFound.candidates, notFound.explicit, notFound.cause], [['/a/.mcp.json', '/b/config.json'], false, undefined]);
});

/** A real fetch failure: a connection to a port nothing listens on. */
async function refusedFetch() {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return fetch(`http://127.0.0.1:${port}/mcp`).then(
    () => assert.fail('nothing should answer'),
    (error) => error,
  );
}
const hostNotFound = () =>
  new TypeError('fetch failed', { cause: Object.assign(new Error('getaddrinfo ENOTFOUND mcp.invalid'), { code: 'ENOTFOUND' }) });
const reset = () => new TypeError('fetch failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) });

const http = { kind: 'http', name: 'docs', url: 'https://mcp.example.com/mcp' };
const stdio = { kind: 'stdio', name: 'files', command: 'mcp-files', args: [] };
const never = () => assert.fail('no step-up asked for');

test('explainFailure, stdio: a missing or unexecutable command, a process that exited, anything else with the last stderr line', () => {
  const errno = (code) => Object.assign(new Error(`spawn mcp-files ${code}`), { code });
  assert.equal(explainFailure(stdio, errno('ENOENT'), undefined, undefined), 'command not found: mcp-files (check "command" and PATH)');
  assert.equal(explainFailure(stdio, errno('EACCES'), undefined, undefined), 'command not executable: mcp-files');
  assert.equal(
    explainFailure(stdio, new ServerClosedError('MCP error -32000: Connection closed'), undefined, 'fatal: bad flag'),
    'process exited during start (last stderr: fatal: bad flag)',
  );
  assert.equal(
    explainFailure(stdio, new ServerClosedError('MCP error -32000: Connection closed'), undefined, undefined),
    'process exited during start',
  );
  // A server's own error that only says the same words is not a process that exited.
  assert.equal(
    explainFailure(stdio, new Error('MCP error -32000: Connection closed by upstream'), undefined, 'warn: x'),
    'MCP error -32000: Connection closed by upstream (last stderr: warn: x)',
  );
  assert.equal(explainFailure(stdio, new Error('MCP error -32602: bad params'), undefined, undefined), 'MCP error -32602: bad params');
});

test('explainFailure, HTTP: a 401, each failure of the login side, an unreachable server, anything else as it is', async () => {
  assert.equal(
    explainFailure(http, new Error('HTTP 401'), 401, undefined),
    'the server requires an OAuth login (HTTP 401) and none succeeded',
  );
  for (const [error, name] of kinds()) {
    const explained = explainFailure(http, error, undefined, undefined);
    if (['TokenStoreUnavailableError'].includes(name)) assert.equal(explained, error.message, `${name}: the store's own words`);
    else if (
      [
        'OAuthFlowError',
        'UnsafeAuthorizationServerError',
        'TransientAuthError',
        'LoginRequiredError',
        'CallbackPortInUseError',
        'IdentityAssertionDeniedError',
        'IdentityAssertionRejectedError',
        'IdentitySignInRequiredError',
        'IdTokenInvalidError',
      ].includes(name)
    ) {
      assert.equal(explained, `login failed: ${error.message}`, name);
    } else assert.equal(explained, error.message, `${name} is no login failure`);
  }
  assert.equal(
    explainFailure(http, new LockTimeoutError('/s/lock', { pid: 7 }, 60_000), undefined, undefined),
    'login failed: another gateway process (pid 7) has held /s/lock for over 60 s; if no gateway is logging in, delete that file',
  );
  assert.equal(
    explainFailure(http, await refusedFetch(), undefined, undefined),
    'cannot reach https://mcp.example.com/mcp: connection refused (is the server running?)',
  );
  assert.equal(explainFailure(http, hostNotFound(), undefined, undefined), 'cannot reach https://mcp.example.com/mcp: host not found');
  assert.equal(explainFailure(http, reset(), undefined, undefined), 'cannot reach https://mcp.example.com/mcp: read ECONNRESET');
  assert.equal(
    explainFailure(http, new Error('SSE error: stream ended', { cause: reset() }), undefined, undefined),
    'cannot reach https://mcp.example.com/mcp: read ECONNRESET',
    'a network failure as the cause',
  );
  assert.equal(
    explainFailure(http, new TypeError('fetch failed'), undefined, undefined),
    'fetch failed',
    'no system error: not taken for a network failure',
  );
  assert.equal(explainFailure(http, new Error('Streamable HTTP error: HTTP 500'), 500, undefined), 'Streamable HTTP error: HTTP 500');
});

test('the login side is read by class and code: an error that only takes a gateway error name is none of them', () => {
  const impostor = Object.assign(new Error('cannot reach https://as.example.com'), {
    name: 'TransientAuthError',
    code: 'transient_auth',
    retry: 'transient',
  });
  assert.deepEqual(
    [isAuthError(impostor), isRetryableAuthError(impostor), isAuthServerFailure(impostor), isLoginRequired(impostor)],
    [false, false, false, false],
  );
  assert.equal(explainFailure(http, impostor, undefined, undefined), 'cannot reach https://as.example.com');
  assert.deepEqual(readRequestFailure(http, impostor, undefined, never), { act: 'none' });

  const table = (error) => [isAuthError(error), isRetryableAuthError(error), isAuthServerFailure(error), isLoginRequired(error)];
  assert.deepEqual(table(new TransientAuthError('x')), [true, true, true, false]);
  assert.deepEqual(table(new LockTimeoutError('/s/lock', undefined, 1)), [true, true, true, false]);
  assert.deepEqual(table(new OAuthFlowError('access_denied', 'x')), [true, false, true, false]);
  assert.deepEqual(table(new UnsafeAuthorizationServerError('x')), [true, false, true, false]);
  assert.deepEqual(table(new LoginRequiredError('x')), [true, false, false, true]);
  assert.deepEqual(table(new CallbackPortInUseError(1)), [true, false, false, false]);
  assert.deepEqual(table(new TokenStoreUnavailableError('x')), [true, false, false, false]);
  for (const other of [
    new ConfigError('x'),
    new RulesError('x'),
    new BundleError('x'),
    new UsageError('x'),
    new ServerClosedError('x'),
    new ConnectTimeoutError(1),
    new LockUnavailableError('/s/lock', cause),
    new Error('x'),
  ]) {
    assert.deepEqual(table(other), [false, false, false, false], `${other.name} is not the login's`);
  }
});

test('readRequestFailure: a new login on 401, a step-up on 403 while allowed, the authorization server down or refusing, a server gone away', async () => {
  const withStepUps = (allowed) => () => allowed;
  assert.deepEqual(readRequestFailure(http, new Error('HTTP 401'), 401, never), {
    act: 'log-in-again',
    message: 'the server asked for a new login; logging in again (retry the call once it is ready)',
  });
  assert.equal(readRequestFailure(http, new Error('HTTP 403'), 403, withStepUps(true)).act, 'step-up');
  assert.deepEqual(readRequestFailure(http, new Error('HTTP 403'), 403, withStepUps(false)), { act: 'none' });

  assert.deepEqual(
    readRequestFailure(http, new TransientAuthError('token refresh failed 3 times: cannot reach https://as.example.com'), undefined, never),
    {
      act: 'auth-unavailable',
      retry: true,
      message: 'token refresh failed 3 times: cannot reach https://as.example.com; the gateway retries in the background',
    },
  );
  assert.deepEqual(readRequestFailure(http, new LockTimeoutError('/s/lock', undefined, 60_000), undefined, never).retry, true);
  assert.deepEqual(
    readRequestFailure(
      http,
      new OAuthFlowError('refresh_refused', 'the token refresh was refused and retrying will not help: invalid_request'),
      undefined,
      never,
    ),
    {
      act: 'auth-unavailable',
      retry: false,
      message: 'the token refresh was refused and retrying will not help: invalid_request',
    },
  );
  assert.equal(readRequestFailure(http, new UnsafeAuthorizationServerError('token_type "mac"'), undefined, never).retry, false);
  for (const own of [new LoginRequiredError('x'), new TokenStoreUnavailableError('x'), new CallbackPortInUseError(1)]) {
    assert.deepEqual(readRequestFailure(http, own, undefined, never), { act: 'none' }, `${own.name}: the request's own failure`);
  }

  const refused = await refusedFetch();
  assert.equal(networkError(refused), refused);
  assert.deepEqual(readRequestFailure(http, refused, undefined, never), {
    act: 'reconnect',
    reason: 'cannot reach https://mcp.example.com/mcp: connection refused (is the server running?)',
    message: 'cannot reach https://mcp.example.com/mcp: connection refused (is the server running?); reconnecting',
  });
  const wrapped = new Error('SSE stream disconnected', { cause: reset() });
  assert.equal(readRequestFailure(http, wrapped, undefined, never).reason, 'cannot reach https://mcp.example.com/mcp: read ECONNRESET');
  assert.deepEqual(readRequestFailure(stdio, refused, undefined, never), { act: 'none' }, 'a stdio server does not go away by HTTP');
  assert.deepEqual(readRequestFailure(http, new Error('MCP error -32602: bad params'), undefined, never), { act: 'none' });
});

test('classifyTokenError: the gateway errors by their retry class, the SDK OAuth errors by their kind', () => {
  assert.equal(classifyTokenError(new TransientAuthError('x')), 'transient');
  assert.equal(classifyTokenError(new LockTimeoutError('/s/lock', undefined, 1)), 'transient');
  assert.equal(classifyTokenError(new LoginRequiredError('x')), 'grant', 'a login is what helps');
  assert.equal(classifyTokenError(new UnsafeAuthorizationServerError('x')), 'fatal');
  assert.equal(classifyTokenError(new OAuthFlowError('x', 'x')), 'fatal');
  assert.equal(classifyTokenError(new InvalidClientError('x')), 'client');
  assert.equal(classifyTokenError(new InvalidGrantError('x')), 'grant');
  assert.equal(classifyTokenError(new ServerError('x')), 'transient');
  assert.equal(classifyTokenError(Object.assign(new Error('x'), { name: 'UnsafeAuthorizationServerError' })), 'transient', 'not by name');
});

test("a failed server's state keeps the failure's code; the CLI's exit status follows the code", () => {
  assert.equal(failureCode(new ConnectTimeoutError(1000)), 'connect_timeout');
  assert.equal(failureCode(new LoginRequiredError('x')), 'login_required');
  assert.equal(failureCode(Object.assign(new Error('x'), { code: 'ENOENT' })), undefined, 'only the gateway errors have one');
  for (const [error, name, code] of kinds()) {
    const expected = ['usage', 'passphrase_invalid', 'config_invalid', 'config_not_found', 'rules_invalid', 'bundle_invalid'].includes(code)
      ? ExitCode.UsageOrConfig
      : ExitCode.SomeServersNotReady;
    assert.equal(exitCodeFor(error), expected, name);
  }
  assert.equal(exitCodeFor(new TypeError('x is undefined')), ExitCode.Internal);
  assert.equal(exitCodeFor(Object.assign(new Error('x'), { name: 'ConfigError' })), ExitCode.Internal, 'not by name');
});
