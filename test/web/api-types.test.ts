import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { API_TYPES_FILE, generateApiTypes } from '../../scripts/api-types';

describe('the UI’s API types', () => {
  it('src/web/api/schema.d.ts is what docs/openapi.json generates (run `npm run api-types` after changing it)', async () => {
    const committed = readFileSync(API_TYPES_FILE, 'utf8');
    const fresh = await generateApiTypes();
    assert.ok(
      committed === fresh,
      'src/web/api/schema.d.ts is stale: docs/openapi.json changed; run `npm run api-types` and commit the result',
    );
  });
});
