import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express, { type Router } from 'express';

/** The API's OpenAPI document (docs/openapi.json), served as is. Public: it describes the API, it holds no data. */
export const OPENAPI_FILE = fileURLToPath(new URL('../../docs/openapi.json', import.meta.url));

export function openApiRouter(): Router {
  const router = express.Router();
  const document = readFileSync(OPENAPI_FILE, 'utf8');
  router.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(document);
  });
  return router;
}
