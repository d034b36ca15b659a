import { gatewayPaths } from '../config/gatewayPaths.js';
import { accessTokenPath, readOrCreateAccessToken, rotateAccessToken } from '../front/accessToken.js';
import { ExitCode } from './exitCodes.js';

/**
 * `gateway http-token [--rotate]`: the token `serve --http` requires, on stdout (made on first
 * use); `--rotate` replaces it, and a gateway serving refuses the old one from then on.
 */
export async function httpToken(options: { rotate?: boolean }): Promise<number> {
  const dataDir = gatewayPaths().data;
  const token = options.rotate ? await rotateAccessToken(dataDir) : await readOrCreateAccessToken(dataDir);
  process.stdout.write(`${token}\n`);
  if (options.rotate) process.stderr.write(`a new token is in ${accessTokenPath(dataDir)}; clients with the old one are refused\n`);
  return ExitCode.Ok;
}
