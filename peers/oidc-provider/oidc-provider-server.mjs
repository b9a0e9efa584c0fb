// oidc-provider configured for the work `mcp-authz serve` does in the load harness's peer scenarios
// (crates/mcp-authz-server/benches/load.rs, LOAD_PEERS=1; run by `cargo xtask bench --peers`):
// metadata, JWKS, client_credentials with an RFC 8707 `resource` answered by an ES256 JWT access
// token, introspection, and refresh-token rotation, every token kept in SQLite (node:sqlite, WAL,
// synchronous=NORMAL, as mcp-authz's SQLite store), not in the provider's in-memory development adapter.
//
// Prints one line `PEER <json>` with its address and the credentials the harness needs, then serves
// until its standard input closes.
import * as crypto from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

import Provider from 'oidc-provider';

const RESOURCE = process.env.PEER_RESOURCE ?? 'http://127.0.0.1:9/mcp';
const SCOPE = 'tools:read';
const CHAINS = Number(process.env.PEER_REFRESH_CHAINS ?? '64');
const MACHINE = { id: 'bench-machine', secret: crypto.randomBytes(32).toString('base64url') };
const PUBLIC_CLIENT = 'bench-public';

// ---- A SQLite adapter (the interface of oidc-provider's adapter documentation) ----
const dir = mkdtempSync(join(tmpdir(), 'oidc-provider-bench-'));
const db = new DatabaseSync(join(dir, 'store.db'));
db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
  CREATE TABLE models (
    model TEXT NOT NULL, id TEXT NOT NULL, payload TEXT NOT NULL,
    grant_id TEXT, user_code TEXT, uid TEXT, expires_at INTEGER, consumed_at INTEGER,
    PRIMARY KEY (model, id));
  CREATE INDEX models_grant ON models (grant_id);
  CREATE INDEX models_uid ON models (model, uid);
  CREATE INDEX models_user_code ON models (model, user_code);`);
const statements = {
  upsert: db.prepare(`INSERT INTO models (model, id, payload, grant_id, user_code, uid, expires_at)
    VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id,
      user_code = excluded.user_code, uid = excluded.uid, expires_at = excluded.expires_at`),
  find: db.prepare('SELECT payload, expires_at, consumed_at FROM models WHERE model = ? AND id = ?'),
  findByUid: db.prepare('SELECT payload, expires_at, consumed_at FROM models WHERE model = ? AND uid = ?'),
  findByUserCode: db.prepare('SELECT payload, expires_at, consumed_at FROM models WHERE model = ? AND user_code = ?'),
  consume: db.prepare('UPDATE models SET consumed_at = ? WHERE model = ? AND id = ?'),
  destroy: db.prepare('DELETE FROM models WHERE model = ? AND id = ?'),
  revokeByGrantId: db.prepare('DELETE FROM models WHERE grant_id = ?'),
};
const now = () => Math.floor(Date.now() / 1000);
function row(r) {
  if (!r || (r.expires_at !== null && r.expires_at < now())) return undefined;
  const payload = JSON.parse(r.payload);
  if (r.consumed_at !== null) payload.consumed = r.consumed_at;
  return payload;
}
class SqliteAdapter {
  constructor(model) { this.model = model; }
  async upsert(id, payload, expiresIn) {
    statements.upsert.run(this.model, id, JSON.stringify(payload), payload.grantId ?? null,
      payload.userCode ?? null, payload.uid ?? null, expiresIn ? now() + expiresIn : null);
  }
  async find(id) { return row(statements.find.get(this.model, id)); }
  async findByUid(uid) { return row(statements.findByUid.get(this.model, uid)); }
  async findByUserCode(code) { return row(statements.findByUserCode.get(this.model, code)); }
  async consume(id) { statements.consume.run(now(), this.model, id); }
  async destroy(id) { statements.destroy.run(this.model, id); }
  async revokeByGrantId(grantId) { statements.revokeByGrantId.run(grantId); }
}

// ---- The provider ----
const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'bench-es256', alg: 'ES256', use: 'sig' };

const server = (await import('node:http')).createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  adapter: SqliteAdapter,
  jwks: { keys: [jwk] },
  clients: [
    {
      client_id: MACHINE.id,
      client_secret: MACHINE.secret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: SCOPE,
    },
    {
      client_id: PUBLIC_CLIENT,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: ['http://127.0.0.1:7777/callback'],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
      scope: SCOPE,
    },
  ],
  scopes: [SCOPE],
  clientDefaults: { id_token_signed_response_alg: 'ES256' },
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    revocation: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resource) => {
        if (resource !== RESOURCE) throw new Error('unknown resource');
        return {
          scope: SCOPE,
          audience: RESOURCE,
          accessTokenTTL: 3600,
          accessTokenFormat: process.env.PEER_ACCESS_TOKEN_FORMAT ?? 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        };
      },
    },
  },
  rotateRefreshToken: true,
  issueRefreshToken: async () => true,
  ttl: { RefreshToken: 86400, Grant: 86400 },
  findAccount: async (_ctx, id) => ({ accountId: id, claims: async () => ({ sub: id }) }),
});
provider.proxy = false;
server.on('request', provider.callback());

// Refresh-token chains: a grant per chain and its first refresh token, made through the provider's own
// models (what a completed authorization-code flow would have stored).
const client = await provider.Client.find(PUBLIC_CLIENT);
const refreshTokens = [];
for (let i = 0; i < CHAINS; i += 1) {
  const grant = new provider.Grant({ accountId: `user-${i}`, clientId: PUBLIC_CLIENT });
  grant.addResourceScope(RESOURCE, SCOPE);
  const grantId = await grant.save();
  const token = new provider.RefreshToken({
    accountId: `user-${i}`,
    client,
    grantId,
    gty: 'authorization_code',
    scope: SCOPE,
    resource: RESOURCE,
    authTime: now(),
  });
  refreshTokens.push(await token.save());
}

console.log(`PEER ${JSON.stringify({
  base: issuer,
  version: (await import('oidc-provider/package.json', { with: { type: 'json' } })).default.version,
  machine_authorization: `Basic ${Buffer.from(`${MACHINE.id}:${MACHINE.secret}`).toString('base64')}`,
  public_client: PUBLIC_CLIENT,
  resource: RESOURCE,
  scope: SCOPE,
  refresh_tokens: refreshTokens,
})}`);

process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
