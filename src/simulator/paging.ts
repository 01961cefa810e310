/** Paging rules of Bitbucket API 2.0 list endpoints. */

export interface PagelenRule {
  def: number;
  max: number;
  /** Pull requests reject an oversized pagelen with 400 "Invalid pagelen"; others clamp (UNCONFIRMED). */
  overMax: 'clamp' | 'error';
}

export const COMMITS_PAGING: PagelenRule = { def: 10, max: 100, overMax: 'clamp' };
export const REPOSITORIES_PAGING: PagelenRule = { def: 10, max: 100, overMax: 'clamp' };
export const DIFFSTAT_PAGING: PagelenRule = { def: 500, max: 5000, overMax: 'clamp' };
export const PULLREQUESTS_PAGING: PagelenRule = { def: 10, max: 50, overMax: 'error' };
export const ACTIVITY_PAGING: PagelenRule = { def: 10, max: 50, overMax: 'error' };

export function parsePagelen(raw: string | null, rule: PagelenRule): number | 'invalid' {
  if (raw === null || raw === '') return rule.def;
  if (!/^\d+$/.test(raw)) return 'invalid';
  const n = Number(raw);
  if (n < 1) return 'invalid';
  if (n > rule.max) return rule.overMax === 'clamp' ? rule.max : 'invalid';
  return n;
}

/** 1-based page number; anything else is invalid. */
export function parsePage(raw: string | null): number | 'invalid' {
  if (raw === null || raw === '') return 1;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) return 'invalid';
  return Number(raw);
}

/**
 * Commit lists page with an opaque cursor (like Bitbucket's non-numeric `page` values). It
 * carries the offset and the hash expected there, so a page survives new commits being pushed
 * in between: if the hash moved, paging resumes from wherever that commit now is.
 */
export function encodeCursor(offset: number, hash: string): string {
  return Buffer.from(`${offset}:${hash.slice(0, 16)}`).toString('base64url');
}

export function decodeCursor(
  raw: string | null,
  pagelen: number,
  hashAt: (offset: number) => string | undefined,
  find: (hashPrefix: string) => number,
): number | 'invalid' {
  if (raw === null || raw === '') return 0;
  // Numeric pages (?page=3) also work, as they do on Bitbucket's page-numbered lists.
  if (/^\d+$/.test(raw)) return Number(raw) >= 1 ? (Number(raw) - 1) * pagelen : 'invalid';
  const text = Buffer.from(raw, 'base64url').toString('utf8');
  const m = /^(\d+):([0-9a-f]{4,40})$/.exec(text);
  if (!m) return 'invalid';
  const offset = Number(m[1]);
  if (hashAt(offset)?.startsWith(m[2]!)) return offset;
  const moved = find(m[2]!);
  return moved >= 0 ? moved : offset;
}
