import type { ExportCommit } from '../support/load-export';

/**
 * The analytics semantics computed straight from a history export, in plain TypeScript, with no SQL and no
 * code of src/analytics: what the API must answer.
 */

export interface Semantics {
  merges?: 'exclude' | 'include' | 'only';
  bots?: 'exclude' | 'include';
  /** A file excluded from line counts (the exclusion glob, as the test states it). */
  excluded?: (path: string) => boolean;
  accountOf: (email: string) => string | null;
  /** Half-open instant range. */
  from?: number;
  to?: number;
}

const BOT_WORDS = ['[bot]', 'dependabot', 'renovate'];
export const isBot = (c: ExportCommit) =>
  BOT_WORDS.some((w) => c.author.email.toLowerCase().includes(w) || c.author.name.toLowerCase().includes(w));

export function counted(commits: ExportCommit[], s: Semantics): ExportCommit[] {
  return commits.filter((c) => {
    const merge = c.parents.length > 1;
    if ((s.merges ?? 'exclude') === 'exclude' && merge) return false;
    if (s.merges === 'only' && !merge) return false;
    if ((s.bots ?? 'exclude') === 'exclude' && isBot(c)) return false;
    const t = Date.parse(c.date);
    return t >= (s.from ?? -Infinity) && t < (s.to ?? Infinity);
  });
}

export function linesOf(c: ExportCommit, s: Semantics): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const f of c.files) {
    if (f.added === null || f.removed === null) continue;
    if (s.excluded?.(f.path)) continue;
    added += f.added;
    removed += f.removed;
  }
  return { added, removed };
}

export const identityKey = (c: ExportCommit, s: Semantics) => {
  const account = s.accountOf(c.author.email);
  return account ? `a:${account}` : `e:${c.author.email.trim().toLowerCase()}`;
};

export interface Totals {
  commits: number;
  lines_added: number;
  lines_removed: number;
  first_commit: string;
  last_commit: string;
}

export function contributorTotals(commits: ExportCommit[], s: Semantics): Map<string, Totals> {
  const out = new Map<string, Totals>();
  for (const c of counted(commits, s)) {
    const key = identityKey(c, s);
    const { added, removed } = linesOf(c, s);
    const at = new Date(c.date).toISOString();
    const t = out.get(key) ?? {
      commits: 0,
      lines_added: 0,
      lines_removed: 0,
      first_commit: at,
      last_commit: at,
    };
    t.commits += 1;
    t.lines_added += added;
    t.lines_removed += removed;
    if (at < t.first_commit) t.first_commit = at;
    if (at > t.last_commit) t.last_commit = at;
    out.set(key, t);
  }
  return out;
}

/** Local calendar parts of an instant in a zone, from the runtime's time zone data. */
export function localParts(ms: number, zone: string) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    weekday: 'short',
    hourCycle: 'h23',
  }).formatToParts(ms);
  const get = (type: string) => parts.find((p) => p.type === type)!.value;
  const weekday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(get('weekday'));
  return { date: `${get('year')}-${get('month')}-${get('day')}`, hour: Number(get('hour')), weekday };
}

/** The Monday of the week holding a date (YYYY-MM-DD). */
export function mondayOf(date: string): string {
  const t = Date.parse(`${date}T00:00:00Z`);
  const dow = new Date(t).getUTCDay();
  return new Date(t - ((dow + 6) % 7) * 86_400_000).toISOString().slice(0, 10);
}

export function weeklySeries(
  commits: ExportCommit[],
  s: Semantics,
  zone: string,
): Map<string, { commits: number; lines_added: number; lines_removed: number }> {
  const out = new Map<string, { commits: number; lines_added: number; lines_removed: number }>();
  for (const c of counted(commits, s)) {
    const week = mondayOf(localParts(Date.parse(c.date), zone).date);
    const { added, removed } = linesOf(c, s);
    const w = out.get(week) ?? { commits: 0, lines_added: 0, lines_removed: 0 };
    w.commits += 1;
    w.lines_added += added;
    w.lines_removed += removed;
    out.set(week, w);
  }
  return out;
}

export function punchCard(commits: ExportCommit[], s: Semantics, zone: string): number[][] {
  const counts = Array.from({ length: 7 }, () => Array<number>(24).fill(0));
  for (const c of counted(commits, s)) {
    const { weekday, hour } = localParts(Date.parse(c.date), zone);
    counts[weekday]![hour]! += 1;
  }
  return counts;
}
