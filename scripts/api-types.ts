/**
 * `npm run api-types`: writes src/web/api/schema.d.ts, the API's types generated from docs/openapi.json by
 * openapi-typescript and formatted with the project's prettier settings. The UI reads its payload types from it,
 * so the pages and the documented API cannot drift apart; test/web/api-types.test.ts fails when it is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import prettier from 'prettier';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const OPENAPI_DOCUMENT = path.join(root, 'docs', 'openapi.json');
export const API_TYPES_FILE = path.join(root, 'src', 'web', 'api', 'schema.d.ts');

const HEADER =
  '// Generated from docs/openapi.json by openapi-typescript (`npm run api-types`). Do not edit by hand.\n\n';

/** The text schema.d.ts should hold for the current docs/openapi.json. */
export async function generateApiTypes(): Promise<string> {
  const document = JSON.parse(readFileSync(OPENAPI_DOCUMENT, 'utf8')) as Parameters<typeof openapiTS>[0];
  const ast = await openapiTS(document);
  const options = await prettier.resolveConfig(API_TYPES_FILE);
  return prettier.format(HEADER + astToString(ast), { ...options, filepath: API_TYPES_FILE });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  writeFileSync(API_TYPES_FILE, await generateApiTypes());
  console.log(`wrote ${path.relative(root, API_TYPES_FILE)}`);
}
