import envPaths from 'env-paths';

/** The user's directories for this tool (config, data), following each OS's conventions. */
export function gatewayPaths(): { config: string; data: string } {
  const paths = envPaths('mcp-oauth-gateway', { suffix: '' });
  return { config: paths.config, data: process.env.MCP_GATEWAY_HOME || paths.data };
}
