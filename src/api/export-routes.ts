import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { csvTable } from '../analytics/csv';
import {
  commitPage,
  pullRequestPage,
  type CommitRow,
  type Cursor,
  type Page,
  type PullRequestRow,
} from '../analytics/export';
import { resolveScope, type Scope } from '../analytics/scope';
import type { Trx } from '../db/database';
import type { ApiDeps } from './api-router';
import { scopedFilters } from './viewer-scope';
import { filterShape, parseQuery, pullRequestPeopleShape, route } from './analytics-params';

const PAGE_ROWS = 5000;

const COMMIT_COLUMNS: (keyof CommitRow & string)[] = [
  'date',
  'repository',
  'repository_uuid',
  'hash',
  'author',
  'author_key',
  'author_email',
  'merge',
  'lines_added',
  'lines_removed',
];

const PULL_REQUEST_COLUMNS: (keyof PullRequestRow & string)[] = [
  'created_on',
  'repository',
  'repository_uuid',
  'id',
  'title',
  'author',
  'state',
  'source_branch',
  'destination_branch',
  'merged_on',
  'closed_on',
  'comment_count',
  'task_count',
  'hours_to_merge',
];

const exportShape = { ...filterShape, format: z.enum(['csv', 'jsonl']).default('csv') };
const pullRequestExportShape = { ...exportShape, ...pullRequestPeopleShape };

/**
 * `GET /export/commits` and `GET /export/pull-requests`: every row in scope, streamed as CSV or JSON lines.
 * Each page is read in its own short tenant transaction (keyset paging), and writing waits for the client.
 */
export function exportRouter(deps: ApiDeps): Router {
  const router = express.Router();

  function streamed<T>(
    shape: typeof pullRequestExportShape | typeof exportShape,
    name: string,
    columns: (keyof T & string)[],
    page: (trx: Trx, scope: Scope, after: Cursor | null, limit: number) => Promise<Page<T>>,
  ) {
    return route(async (req: Request, res: Response) => {
      const q = parseQuery(shape, req.query);
      const tenantId = res.locals.viewer!.tenant.id;
      const scope = await deps.db.withTenant(tenantId, (trx) =>
        resolveScope(trx, scopedFilters(res, q), deps.now()),
      );
      const table = csvTable<T>(columns);
      // Waits for the client to drain (or leave), removing its listeners either way.
      const write = (text: string) =>
        res.write(text)
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              const done = () => {
                res.off('drain', done);
                res.off('close', done);
                resolve();
              };
              res.on('drain', done);
              res.on('close', done);
            });
      res.attachment(`${name}.${q.format}`);
      res.type(q.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8');
      try {
        if (q.format === 'csv') await write(table.header);
        let after: Cursor | null = null;
        do {
          const current: Page<T> = await deps.db.withTenant(tenantId, (trx) =>
            page(trx, scope, after, PAGE_ROWS),
          );
          let chunk = '';
          for (const row of current.rows)
            chunk += q.format === 'csv' ? table.row(row) : `${JSON.stringify(row)}\n`;
          if (chunk) await write(chunk);
          after = current.next;
        } while (after && !res.destroyed);
        res.end();
      } catch (error) {
        // Headers are gone: the only honest signal left is a broken response.
        res.destroy();
        throw error;
      }
    });
  }

  router.get('/export/commits', streamed<CommitRow>(exportShape, 'commits', COMMIT_COLUMNS, commitPage));
  router.get(
    '/export/pull-requests',
    streamed<PullRequestRow>(pullRequestExportShape, 'pull-requests', PULL_REQUEST_COLUMNS, pullRequestPage),
  );
  return router;
}
