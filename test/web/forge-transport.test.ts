import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Transport } from '../../src/web/host/host';

/**
 * The Forge host's transport: the real @forge/bridge's invokeRemote, its host answering as Forge's bridge does
 * (`{ success, payload: { status, headers, body } }`, headers as lists), turned back into fetch Responses so the API
 * client is the same in both hosts. The bridge reads `globalThis.__bridge` when it loads, as in a Custom UI frame.
 */

interface Call {
  name: string;
  payload: {
    path: string;
    method: string;
    headers?: Record<string, string>;
    body?: unknown;
    invokeType: string;
  };
}

const calls: Call[] = [];
let answer: unknown;
let remoteTransport: Transport;

describe('Forge transport (invokeRemote)', () => {
  before(async () => {
    (globalThis as unknown as { __bridge: unknown }).__bridge = {
      callBridge: (name: string, payload: Call['payload']) => {
        calls.push({ name, payload });
        return Promise.resolve(answer);
      },
    };
    ({ remoteTransport } = await import('../../src/web/host/forge'));
  });

  it('sends the /api/v1 path, method, headers and JSON body through invokeRemote', async () => {
    answer = {
      success: true,
      payload: { status: 201, headers: { 'content-type': ['application/json'] }, body: { id: 7 } },
    };
    const res = await remoteTransport('/tokens', {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ci' }),
    });
    const call = calls.at(-1)!;
    assert.equal(call.name, 'invoke');
    assert.equal(call.payload.invokeType, 'ui-remote-fetch');
    assert.equal(call.payload.path, '/api/v1/tokens');
    assert.equal(call.payload.method, 'POST');
    assert.deepEqual(call.payload.body, { name: 'ci' });
    assert.equal(call.payload.headers?.authorization, undefined, 'the frame holds no credential');
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.deepEqual(await res.json(), { id: 7 });
  });

  it('keeps error answers, text bodies and empty answers as the server sent them', async () => {
    answer = {
      success: true,
      payload: { status: 403, headers: {}, body: { error: { code: 'outside_scope', message: 'no' } } },
    };
    const refused = await remoteTransport('/stats/activity', { method: 'GET', headers: {} });
    assert.equal(refused.status, 403);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'outside_scope');

    answer = {
      success: true,
      payload: { status: 200, headers: { 'content-type': ['text/csv'] }, body: 'a,b\r\n' },
    };
    assert.equal(
      await (await remoteTransport('/export/commits', { method: 'GET', headers: {} })).text(),
      'a,b\r\n',
    );

    answer = { success: true, payload: { status: 204, headers: {} } };
    const empty = await remoteTransport('/tokens/1', { method: 'DELETE', headers: {} });
    assert.equal(empty.status, 204);
    assert.equal(await empty.text(), '');
  });

  it('a bridge failure (no HTTP status) is a 502 with a stable error body; an aborted call is an AbortError', async () => {
    answer = { success: false, error: { message: 'remote unreachable' } };
    const failed = await remoteTransport('/me', { method: 'GET', headers: {} });
    assert.equal(failed.status, 502);
    assert.deepEqual(await failed.json(), {
      error: { code: 'internal_error', message: 'remote unreachable' },
    });

    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      remoteTransport('/me', { method: 'GET', headers: {}, signal: controller.signal }),
      (e: Error) => e.name === 'AbortError',
    );
  });
});
