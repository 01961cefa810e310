import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../src/db/embedded-postgres';
import { createTestDatabase, type TestDatabase } from '../support/db';

describe('shutdown', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase();
  });
  after(async () => {
    await database?.drop();
  });

  // Bounded: a shutdown that hangs fails here instead of holding the suite up.
  it(
    'on SIGTERM, `npm start` closes the server, stops the worker and the pool, and exits 0',
    { timeout: 120_000 },
    async (t) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main/server.ts'], {
        env: {
          PATH: process.env.PATH,
          NODE_ENV: 'test',
          DATABASE_URL: database.appUrl,
          TALLY_ENCRYPTION_KEY: randomBytes(32).toString('hex'),
          PORT: String(await freePort()),
          LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      t.after(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = once(child, 'exit');
      for (let waited = 0; !output.includes('"msg":"worker started"'); waited += 50) {
        assert.ok(waited < 60_000 && child.exitCode === null, `the server did not start:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      child.kill('SIGTERM');
      const [code] = await exited;
      assert.equal(code, 0, `exit code ${code}:\n${output.slice(-2000)}`);
      assert.match(output, /"msg":"shutting down"/);
      assert.doesNotMatch(output, /Unhandled 'error' event/);
    },
  );
});
