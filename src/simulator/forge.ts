import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload, type KeyLike } from 'jose';

/**
 * Forge's side of Forge Remote, for the demo and the tests: it signs invocation tokens (RS256, `iss`
 * forge/invocation-token, `aud` the app id, a `kid` from its key set) the way Forge does, serves its JWKS, and can
 * rotate its signing key (the old key leaves the set, as a compromised key would). Claim shapes: docs/forge.md.
 */
export class ForgeSimulator {
  /** How many times the JWKS was served (a verifier's key cache is visible in this count). */
  jwksRequests = 0;
  readonly appId: string;
  private key!: { kid: string; privateKey: KeyLike; jwk: JWK };
  private server!: Server;
  url = '';

  private constructor(appId: string) {
    this.appId = appId;
  }

  static async start(options: { appId?: string } = {}): Promise<ForgeSimulator> {
    const forge = new ForgeSimulator(options.appId ?? `ari:cloud:ecosystem::app/${randomUUID()}`);
    await forge.rotate();
    forge.server = createServer((req, res) => {
      if (req.method === 'GET' && req.url === '/.well-known/jwks.json') {
        forge.jwksRequests++;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ keys: [forge.key.jwk] }));
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => forge.server.listen(0, '127.0.0.1', resolve));
    forge.url = `http://127.0.0.1:${(forge.server.address() as AddressInfo).port}`;
    return forge;
  }

  get jwksUrl(): string {
    return `${this.url}/.well-known/jwks.json`;
  }

  get kid(): string {
    return this.key.kid;
  }

  /** A new signing key; the old one is no longer published. */
  async rotate(): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const kid = randomUUID();
    this.key = { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
  }

  /**
   * An invocation token for an installation, as Forge sends it with a UI remote call (`context` given) or an
   * event (no `context`). `overrides` replace claims (a forged token's wrong audience, an expired `exp`…).
   */
  async invocationToken(input: {
    installationId: string;
    workspaceUuid?: string;
    apiBaseUrl: string;
    context?: Record<string, unknown>;
    principal?: string;
    moduleType?: string;
    overrides?: JWTPayload;
    expiresInSeconds?: number;
  }): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const workspace = input.workspaceUuid?.replace(/[{}]/g, '');
    const claims: JWTPayload = {
      app: {
        id: this.appId,
        version: '1',
        appVersion: '1.0.0',
        installationId: input.installationId,
        apiBaseUrl: input.apiBaseUrl,
        environment: { type: 'DEVELOPMENT', id: `ari:cloud:ecosystem::environment/${randomUUID()}` },
        module: { type: input.moduleType ?? 'core:endpoint', key: 'tally' },
        installation: {
          id: input.installationId,
          contexts: workspace ? [`ari:cloud:bitbucket::workspace/${workspace}`] : [],
        },
      },
      ...(input.context ? { context: input.context } : {}),
      ...(input.principal ? { principal: input.principal } : {}),
      iss: 'forge/invocation-token',
      aud: this.appId,
      iat: now,
      nbf: now,
      exp: now + (input.expiresInSeconds ?? 25),
      jti: randomUUID(),
      ...input.overrides,
    };
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: this.key.kid, typ: 'JWT' })
      .sign(this.key.privateKey);
  }

  /** The published public key (a forger may know it: HS256 with it as the secret must fail). */
  get publicJwk(): JWK {
    return this.key.jwk;
  }

  /** Signs with a key that is not published (a forger's), under the given key id. */
  async forgedToken(claims: JWTPayload, kid: string): Promise<string> {
    const { privateKey } = await generateKeyPair('RS256');
    return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(privateKey);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
