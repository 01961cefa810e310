import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CODES } from '../../src/platform/error-codes';
import { OPENAPI_FILE } from '../../src/api/openapi-routes';

test('docs/openapi.json lists exactly the error codes Tally answers with', () => {
  const doc = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as {
    components: { schemas: { ErrorCode: { enum: string[] } } };
  };
  assert.deepEqual([...doc.components.schemas.ErrorCode.enum].sort(), Object.keys(ERROR_CODES).sort());
});
