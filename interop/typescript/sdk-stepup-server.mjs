// An MCP server built from the TypeScript SDK's own pieces, for step-up: the SDK's example server
// requires no scope on any tool, so it never answers 403 insufficient_scope. This one puts the SDK's
// `requireBearerAuth` in front of a stateless `McpServer`, with `requiredScopes` chosen per tool:
// `mcp:tools` for everything, `mcp:tools notes:write` for `tools/call` of `add_note`. Tokens come from
// the SDK example's demo authorization server (`setupAuthServer`, `strictResource`), checked through its
// introspection endpoint as in `simpleStreamableHttp.js`.
//
//   MCP_PORT=N MCP_AUTH_PORT=M node sdk-stepup-server.mjs
//
// Prints `MCP step-up server listening on port N` when ready.

import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import {
  getOAuthProtectedResourceMetadataUrl,
  mcpAuthMetadataRouter,
} from '@modelcontextprotocol/sdk/server/auth/router.js';
import { setupAuthServer } from '@modelcontextprotocol/sdk/examples/server/demoInMemoryOAuthProvider.js';
import * as z from 'zod/v4';

const mcpPort = Number(process.env.MCP_PORT);
const authPort = Number(process.env.MCP_AUTH_PORT);
const mcpServerUrl = new URL(`http://localhost:${mcpPort}/mcp`);
const authServerUrl = new URL(`http://localhost:${authPort}`);
const oauthMetadata = setupAuthServer({ authServerUrl, mcpServerUrl, strictResource: true });

/** Introspection at the demo authorization server, as the SDK example does it. */
const verifier = {
  async verifyAccessToken(token) {
    const response = await fetch(oauthMetadata.introspection_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
    });
    if (!response.ok) throw new Error(`invalid or expired token (${response.status})`);
    const data = await response.json();
    return {
      token,
      clientId: data.client_id,
      scopes: data.scope ? data.scope.split(' ') : [],
      expiresAt: data.exp,
      resource: data.aud ? new URL(data.aud) : undefined,
    };
  },
};

const guard = (requiredScopes) =>
  requireBearerAuth({
    verifier,
    requiredScopes,
    resourceMetadataUrl: getOAuthProtectedResourceMetadataUrl(mcpServerUrl),
    expectedResource: mcpServerUrl,
  });
const base = guard(['mcp:tools']);
const write = guard(['mcp:tools', 'notes:write']);

const app = createMcpExpressApp();
app.use(
  mcpAuthMetadataRouter({
    oauthMetadata,
    resourceServerUrl: mcpServerUrl,
    scopesSupported: ['mcp:tools', 'notes:write'],
    resourceName: 'SDK step-up server',
  }),
);
const perTool = (req, res, next) =>
  (req.body?.method === 'tools/call' && req.body?.params?.name === 'add_note' ? write : base)(req, res, next);

app.post('/mcp', perTool, async (req, res) => {
  const server = new McpServer({ name: 'sdk-stepup-server', version: '1.0.0' });
  server.registerTool('whoami', { description: 'The scopes of the token' }, async (extra) => ({
    content: [{ type: 'text', text: `scopes=${(extra.authInfo?.scopes ?? []).join(' ')}` }],
  }));
  server.registerTool(
    'add_note',
    { description: 'Needs notes:write', inputSchema: { text: z.string() } },
    async ({ text }) => ({ content: [{ type: 'text', text: `noted: ${text}` }] }),
  );
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  res.on('close', () => {
    transport.close();
    server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
});

app.listen(mcpPort, '127.0.0.1', (error) => {
  if (error) {
    console.error(`cannot listen: ${error}`);
    process.exit(1);
  }
  console.log(`MCP step-up server listening on port ${mcpPort}`);
});
