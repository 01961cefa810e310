import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as atlassianJwt from 'atlassian-jwt';
import fc from 'fast-check';
import { OPENAPI_FILE } from '../../src/api/openapi-routes';
import { readDescriptor } from '../../src/connect/descriptor';
import { scopeForPage, type PageName } from '../../src/connect/session-scope';
import { installPayload, lifecycleJwt, newWorkspace, type Workspace } from './bitbucket';
import { pushData } from './webhooks';

/**
 * Generated requests against a running Tally (issue 13): every operation of docs/openapi.json (path parameters
 * filled in), the lifecycle routes, every descriptor webhook and the iframe pages, with odd query strings, control
 * characters, huge numbers, odd JSON bodies and forged or odd tokens, validly signed ones included. Used by the
 * fuzz test (a short run) and bench/fuzz.bench.ts (the full run).
 */

export interface FuzzTarget {
  url: string;
  /** An installed workspace whose data the API requests read. */
  ws: Workspace;
  /** Values that reach past validation: a stored repository's uuid, stored contributor keys. */
  repositories: string[];
  contributors: string[];
}

export interface FuzzRequest {
  /** Which route family, for the tally. */
  kind: string;
  method: string;
  /** Path and query, percent-encoded as a client sends them. */
  path: string;
  headers: Record<string, string>;
  body?: string;
}

type Schema = {
  type?: string;
  enum?: unknown[];
  format?: string;
  minimum?: number;
  maximum?: number;
  items?: Schema;
  properties?: Record<string, Schema>;
  $ref?: string;
};
type Parameter = { name: string; in: string; schema?: Schema; $ref?: string };
type Operation = {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
};

const CONTROL = ['\u0000', '\u0001', '\u0007', '\b', '\t', '\n', '\r', '\u001b', '\u007f', '\u0085'];
const SPECIAL = [
  '',
  ' ',
  '%',
  '%zz',
  '%00',
  '%E0%A4%A',
  '\ud800',
  '\uffff',
  '💥',
  'null',
  'undefined',
  'NaN',
  'Infinity',
  '-1',
  '0',
  '1e309',
  '-1e309',
  '9007199254740993',
  '99999999999999999999999999',
  '0x10',
  '1.5',
  '1000-01-01',
  '9999-12-31',
  '0000-00-00',
  '2024-02-30',
  '{}',
  '[]',
  '{00000000-0000-0000-0000-000000000000}',
  'a:',
  'e:',
  '../../etc/passwd',
  "'; drop table commits; --",
  '<script>alert(1)</script>',
  'x'.repeat(5000),
];

/** Text with control characters, odd code points and edge values. */
const oddString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 24 }),
  fc.string({ unit: 'binary', maxLength: 24 }),
  fc.constantFrom(...SPECIAL),
  fc
    .tuple(fc.string({ maxLength: 8 }), fc.constantFrom(...CONTROL), fc.string({ maxLength: 8 }))
    .map((parts) => parts.join('')),
);

const hugeNumber = fc.oneof(
  fc.constantFrom(2 ** 31, 2 ** 53 + 2, 1e308, -1e308, -0, 0.5, Number.MAX_SAFE_INTEGER),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);

/** Any JSON value, leaning to odd strings and huge numbers. */
const oddJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    oddString,
    hugeNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(oddString, tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** A value shaped by a (small) JSON schema, now and then swapped for an odd one. */
function schemaValue(
  schema: Schema | undefined,
  pools: { date: string[]; text: string[] },
): fc.Arbitrary<unknown> {
  let shaped: fc.Arbitrary<unknown>;
  if (!schema) shaped = oddJson;
  else if (schema.enum) shaped = fc.constantFrom(...schema.enum);
  else if (schema.type === 'integer')
    shaped = fc.oneof(fc.integer({ min: schema.minimum ?? -10, max: schema.maximum ?? 10_000 }), hugeNumber);
  else if (schema.type === 'boolean') shaped = fc.boolean();
  else if (schema.type === 'array') shaped = fc.array(schemaValue(schema.items, pools), { maxLength: 5 });
  else if (schema.type === 'object' && schema.properties) {
    const entries = Object.entries(schema.properties);
    shaped = fc.record(Object.fromEntries(entries.map(([k, s]) => [k, schemaValue(s, pools)])), {
      requiredKeys: [],
    });
  } else if (schema.format === 'date') shaped = fc.constantFrom(...pools.date);
  else shaped = fc.oneof(fc.constantFrom(...pools.text), oddString);
  return fc.oneof({ weight: 4, arbitrary: shaped }, { weight: 1, arbitrary: oddJson });
}

/** Percent-encodes the UTF-8 bytes (a lone surrogate becomes U+FFFD, as on the wire), unreserved bytes as they are. */
export const percentEncode = (text: string) =>
  [...Buffer.from(text, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9\-._~]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');

/** A query string as a client might send it: encoded pairs, raw odd fragments, bracket nesting. */
function queryString(pairs: [string, unknown][], raw: string[]): string {
  const encode = (v: unknown) => percentEncode(typeof v === 'string' ? v : (JSON.stringify(v) ?? ''));
  const parts = pairs.flatMap(([k, v]) =>
    Array.isArray(v) ? v.map((one) => `${encode(k)}=${encode(one)}`) : [`${encode(k)}=${encode(v)}`],
  );
  const text = [...parts, ...raw].join('&');
  return text ? `?${text}` : '';
}

const rawFragments = fc.array(
  fc.constantFrom(
    '&',
    '=',
    '%',
    '%zz',
    'a[b]=1',
    'a[b][c][d][e][f][g][h]=1',
    'since[]=1',
    'tz[x]=UTC',
    '=x',
    '&&',
  ),
  { maxLength: 2 },
);

/** HS256 over any claims at all (jsonwebtoken refuses to sign odd exp or iat values; Tally must refuse them). */
function signAny(claims: object, secret: string, alg = 'HS256'): string {
  const part = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const body = `${part({ alg, typ: 'JWT' })}.${part(claims)}`;
  const hash = alg === 'HS512' ? 'sha512' : 'sha256';
  return `${body}.${createHmac(hash, secret).update(body).digest('base64url')}`;
}

/** Tokens: none, garbage, forged, expired, and validly signed ones with odd claims. */
function tokens(
  target: FuzzTarget,
  kind: 'session' | 'lifecycle',
  path: string,
): fc.Arbitrary<string | null> {
  const { ws } = target;
  const now = Math.floor(Date.now() / 1000);
  const claims =
    kind === 'session'
      ? { iss: 'tally', aud: [ws.clientKey], sub: 'acc-fuzz', iat: now, exp: now + 3600 }
      : {
          iss: ws.clientKey,
          aud: ws.clientKey,
          iat: now,
          exp: now + 3600,
          qsh: atlassianJwt.createQueryStringHash(atlassianJwt.fromMethodAndUrl('POST', path)),
        };
  const sign = (payload: object, secret = ws.sharedSecret) => signAny(payload, secret);
  // A session token carries the scope its page mints (the repository page: the target's repository).
  const valid = (page: PageName) =>
    sign(
      kind === 'session'
        ? {
            ...claims,
            tally_page: page,
            tally_scope: scopeForPage(page, { repoUuid: target.repositories[0] }),
          }
        : claims,
    );
  return fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom<PageName>('configure', 'workspace', 'repository').map(valid) },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: oddString },
    {
      weight: 2,
      arbitrary: fc
        .record({
          key: fc.constantFrom('iss', 'aud', 'sub', 'tally_page', 'tally_scope', 'qsh', 'exp', 'iat'),
          value: oddJson,
        })
        .map(({ key, value }) => sign({ ...claims, [key]: value })),
    },
    { weight: 1, arbitrary: fc.constant(sign(claims, 'not-the-secret-at-all-000000')) },
    { weight: 1, arbitrary: fc.constant(sign({ ...claims, exp: now - 60 })) },
    {
      weight: 1,
      arbitrary: fc.constant(signAny(claims, ws.sharedSecret, 'HS512')),
    },
  );
}

const authorization = (token: string | null): Record<string, string> =>
  token === null ? {} : { authorization: `JWT ${token}` };

/** Bodies: shaped JSON, odd JSON, not JSON at all, or a JSON text with NUL escapes. */
function bodies(shaped: fc.Arbitrary<unknown>): fc.Arbitrary<{ body: string; type: string }> {
  return fc.oneof(
    {
      weight: 6,
      arbitrary: shaped.map((v) => ({ body: JSON.stringify(v) ?? 'null', type: 'application/json' })),
    },
    {
      weight: 1,
      arbitrary: oddJson.map((v) => ({ body: JSON.stringify(v) ?? 'null', type: 'application/json' })),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('{', '{"a":', '\u0000', 'null', '[]', '"x"', '{"confirm":"\\u0000"}')
        .map((body) => ({
          body,
          type: 'application/json',
        })),
    },
    { weight: 1, arbitrary: oddString.map((body) => ({ body, type: 'text/plain' })) },
    {
      // A shaped object with a field nested thousands deep (stack overflows in serializers and recursive walks).
      weight: 1,
      arbitrary: fc.tuple(shaped, fc.integer({ min: 100, max: 20_000 })).map(([v, depth]) => {
        const text = JSON.stringify(v) ?? 'null';
        const deep = '['.repeat(depth) + ']'.repeat(depth);
        return {
          body: /^\{.+\}$/.test(text) ? `${text.slice(0, -1)},"deep":${deep}}` : deep,
          type: 'application/json',
        };
      }),
    },
    {
      weight: 1,
      arbitrary: shaped.map((v) => ({
        body: JSON.stringify(v) ?? '',
        type: 'application/json; charset=utf-16',
      })),
    },
  );
}

/** Every API operation of docs/openapi.json, as request arbitraries. */
function apiRequests(target: FuzzTarget): fc.Arbitrary<FuzzRequest>[] {
  const doc = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as {
    paths: Record<string, Record<string, Operation & Parameter[]>>;
    components: { parameters: Record<string, Parameter> };
  };
  const resolve = (p: Parameter) => (p.$ref ? doc.components.parameters[p.$ref.split('/').pop()!]! : p);
  const pools = {
    date: ['2009-06-26', '2010-01-01', '2014-02-28', '1000-01-01', '9999-12-31', '2024-02-29', '1969-12-31'],
    text: [
      ...target.repositories,
      ...target.contributors,
      'UTC',
      'Europe/Berlin',
      'Asia/Kolkata',
      'configure',
      target.ws.slug,
    ],
  };
  const out: fc.Arbitrary<FuzzRequest>[] = [];
  for (const [template, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'put', 'post', 'delete', 'patch'].includes(method)) continue;
      const params = [
        ...((item as { parameters?: Parameter[] }).parameters ?? []),
        ...(op.parameters ?? []),
      ].map(resolve);
      const query = params.filter((p) => p.in === 'query');
      const pathNames = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
      const schema = op.requestBody?.content['application/json']?.schema;
      out.push(
        fc
          .record({
            pathValues: fc.tuple(...pathNames.map(() => fc.oneof(fc.constantFrom(...pools.text), oddString))),
            pairs: fc.array(
              fc.oneof(
                {
                  weight: 5,
                  arbitrary: fc
                    .constantFrom(...(query.length ? query : [{ name: 'x', in: 'query' }]))
                    .chain((p) => schemaValue(p.schema, pools).map((v) => [p.name, v] as [string, unknown])),
                },
                { weight: 1, arbitrary: fc.tuple(oddString, oddString) },
              ),
              { maxLength: 5 },
            ),
            raw: rawFragments,
            token: tokens(target, 'session', ''),
            body: bodies(schemaValue(schema, pools)),
          })
          .map(({ pathValues, pairs, raw, token, body }) => {
            let path = template;
            pathNames.forEach((name, i) => {
              path = path.replace(`{${name}}`, percentEncode(String(pathValues[i])));
            });
            const hasBody = method !== 'get' && method !== 'delete';
            return {
              kind: `${method.toUpperCase()} ${template}`,
              method: method.toUpperCase(),
              path: `/api/v1${path}${queryString(pairs, raw)}`,
              headers: { ...authorization(token), ...(hasBody ? { 'content-type': body.type } : {}) },
              body: hasBody ? body.body : undefined,
            };
          }),
      );
    }
  }
  return out;
}

/** Mutates a valid payload: one field (possibly nested) set to an odd value, or left as it is. */
function mutated(valid: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 1, arbitrary: valid },
    {
      weight: 4,
      arbitrary: fc.tuple(valid, fc.nat(), fc.nat(), oddJson).map(([payload, i, j, value]) => {
        const copy = structuredClone(payload) as Record<string, unknown>;
        const keys = Object.keys(copy);
        const key = keys[i % keys.length]!;
        const inner = copy[key];
        if (inner && typeof inner === 'object' && !Array.isArray(inner)) {
          const innerKeys = Object.keys(inner);
          if (innerKeys.length > 0)
            (inner as Record<string, unknown>)[innerKeys[j % innerKeys.length]!] = value;
        } else copy[key] = value;
        return copy;
      }),
    },
    { weight: 1, arbitrary: oddJson },
  );
}

/** POST /installed and /uninstalled: new workspaces (never the target's: its secret must not change). */
function lifecycleRequests(target: FuzzTarget): fc.Arbitrary<FuzzRequest>[] {
  const payloads = fc
    .record({ event: fc.constantFrom('installed', 'uninstalled'), seed: fc.nat() })
    .map(({ event }) => {
      const ws = newWorkspace();
      return { ...installPayload(ws, 'http://127.0.0.1', 'http://127.0.0.1'), eventType: event } as Record<
        string,
        unknown
      >;
    });
  return (['/installed', '/uninstalled'] as const).map((path) =>
    fc
      .record({
        payload: mutated(payloads),
        body: fc.nat(),
        signed: fc.boolean(),
        odd: tokens(target, 'lifecycle', path),
      })
      .chain(({ payload, signed, odd }) =>
        bodies(fc.constant(payload)).map((body) => {
          const clientKey = (payload as { clientKey?: unknown })?.clientKey;
          const secret = (payload as { sharedSecret?: unknown })?.sharedSecret;
          // A lifecycle call signed by the workspace it names (clientKey and secret as sent), or an odd token.
          const token =
            signed && typeof clientKey === 'string' && typeof secret === 'string' && secret.length > 0
              ? lifecycleJwt(clientKey, secret, path)
              : odd;
          return {
            kind: `POST ${path}`,
            method: 'POST',
            path,
            headers: { ...authorization(token), 'content-type': body.type },
            body: body.body,
          };
        }),
      ),
  );
}

/** Every descriptor webhook: valid envelopes with one odd field, odd envelopes, odd headers and tokens. */
function webhookRequests(target: FuzzTarget): fc.Arbitrary<FuzzRequest>[] {
  const descriptor = readDescriptor(process.cwd());
  const repo = target.repositories[0] ?? '{0b7c3e1a-8f6d-4b8e-9a1c-2d3e4f5a6b7c}';
  const dataFor = (event: string): Record<string, unknown> => {
    const repository = { type: 'repository', uuid: repo, full_name: 'acme/express', name: 'express' };
    if (event === 'repo:push') return pushData(repo, 'acme/express', 'main', 'b'.repeat(40), 'a'.repeat(40));
    if (event.startsWith('pullrequest:'))
      return { repository, pullrequest: { id: 7, title: 'Fix', state: 'OPEN' }, actor: { type: 'user' } };
    return { repository, changes: {} };
  };
  return (descriptor.modules.webhooks ?? []).map(({ event, url }) =>
    fc
      .record({
        data: mutated(fc.constant(dataFor(event))),
        envelope: fc.constantFrom('wrapped', 'bare', 'wrong event'),
        token: tokens(target, 'lifecycle', url),
        requestUuid: fc.oneof(fc.uuid(), oddString),
        eventKey: fc.oneof(fc.constant(event), oddString),
        attempt: fc.oneof(fc.constant('1'), oddString),
      })
      .chain(({ data, envelope, token, requestUuid, eventKey, attempt }) => {
        const wrapped =
          envelope === 'wrapped'
            ? { event, data }
            : envelope === 'bare'
              ? data
              : { event: 'repo:fork', data };
        return bodies(fc.constant(wrapped)).map((body) => ({
          kind: `POST ${url}`,
          method: 'POST',
          path: url,
          headers: {
            ...authorization(token),
            'content-type': body.type,
            'x-request-uuid': requestUuid,
            'x-event-key': eventKey,
            'x-attempt-number': attempt,
          },
          body: body.body,
        }));
      }),
  );
}

/** GET /pages/:page?jwt=…: real page tokens (qsh over the query) with odd claims, odd queries, odd tokens. */
function pageRequests(target: FuzzTarget): fc.Arbitrary<FuzzRequest>[] {
  const { ws } = target;
  return [
    fc
      .record({
        page: fc.oneof(fc.constantFrom('repository', 'workspace', 'configure', 'profile'), oddString),
        pairs: fc.array(fc.tuple(oddString, oddString), { maxLength: 3 }),
        overrides: fc.oneof(
          fc.constant({}),
          fc
            .record({ key: fc.constantFrom('iss', 'aud', 'sub', 'exp', 'qsh'), value: oddJson })
            .map(({ key, value }) => ({
              [key]: value,
            })),
        ),
        forged: fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: oddString }),
      })
      .map(({ page, pairs, overrides, forged }) => {
        const pathAndQuery = `/pages/${percentEncode(page)}${queryString(pairs, [])}`;
        const now = Math.floor(Date.now() / 1000);
        let qsh = 'x';
        try {
          qsh = atlassianJwt.createQueryStringHash(atlassianJwt.fromMethodAndUrl('GET', pathAndQuery));
        } catch {
          // An odd query atlassian-jwt cannot read: the token carries a wrong qsh, which is odd too.
        }
        const token =
          forged ??
          signAny(
            {
              iss: ws.clientKey,
              aud: ws.clientKey,
              sub: '{viewer}',
              iat: now,
              exp: now + 180,
              qsh,
              ...overrides,
            },
            ws.sharedSecret,
          );
        const sep = pathAndQuery.includes('?') ? '&' : '?';
        return {
          kind: 'GET /pages/:page',
          method: 'GET',
          path: `${pathAndQuery}${sep}jwt=${percentEncode(token)}`,
          headers: {},
        };
      }),
  ];
}

/** One generated request of any route family (every route equally likely). */
export function fuzzRequests(target: FuzzTarget): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(
    ...apiRequests(target),
    ...lifecycleRequests(target),
    ...webhookRequests(target),
    ...pageRequests(target),
  );
}

/** Sends one request; null when the client itself refuses it (header values no HTTP client may send). */
export async function send(url: string, request: FuzzRequest): Promise<number | null> {
  let res: Response;
  try {
    // Header values carry only what HTTP allows (odd bytes reach Tally through queries, paths and bodies).
    const headers = Object.fromEntries(
      Object.entries(request.headers).map(([k, v]) => [k, v.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?')]),
    );
    res = await fetch(`${url}${request.path}`, {
      method: request.method,
      headers,
      body: request.body,
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    if (error instanceof TypeError && (cause?.code === 'UND_ERR_INVALID_ARG' || cause === undefined))
      return null;
    throw error;
  }
  await res.arrayBuffer();
  return res.status;
}

export interface FuzzSummary {
  inputs: number;
  sent: number;
  /** Answers by status class (2xx, 4xx…) and by route family. */
  byStatus: Record<string, number>;
  byKind: Record<string, number>;
  /** Requests answered ≥ 500 (or that failed in transport), with the status. */
  failures: { request: FuzzRequest; status: number | string }[];
}

/** Runs `runs` generated requests; every answer ≥ 500 or transport failure is recorded, none stops the run. */
export async function fuzz(target: FuzzTarget, runs: number, seed?: number): Promise<FuzzSummary> {
  const summary: FuzzSummary = { inputs: 0, sent: 0, byStatus: {}, byKind: {}, failures: [] };
  await fc.assert(
    fc.asyncProperty(fuzzRequests(target), async (request) => {
      summary.inputs++;
      summary.byKind[request.kind] = (summary.byKind[request.kind] ?? 0) + 1;
      let status: number | null;
      try {
        status = await send(target.url, request);
      } catch (error) {
        summary.failures.push({
          request,
          status: `transport: ${(error as Error).message} ${String((error as { cause?: unknown }).cause)}`,
        });
        return;
      }
      if (status === null) return;
      summary.sent++;
      const bucket = `${Math.floor(status / 100)}xx`;
      summary.byStatus[bucket] = (summary.byStatus[bucket] ?? 0) + 1;
      if (status >= 500) summary.failures.push({ request, status });
    }),
    { numRuns: runs, seed, endOnFailure: false },
  );
  return summary;
}
