/**
 * A small subset of Bitbucket's query language (BBQL) for `?q=` on pull request lists:
 * `field op value` clauses joined by AND / OR (no parentheses); ops = != > >= < <= ~ !~;
 * values are "quoted strings", numbers, dates (2024-01-01 or full ISO) or true/false/null.
 */
export type Getter = (field: string) => string | number | boolean | null | undefined;

interface Clause {
  field: string;
  op: string;
  value: string | number | boolean | null;
}

export class BbqlError extends Error {}

export function compileBbql(q: string): (get: Getter) => boolean {
  const groups = splitOutsideQuotes(q, /\s+OR\s+/i).map((g) =>
    splitOutsideQuotes(g, /\s+AND\s+/i).map(parseClause),
  );
  return (get) => groups.some((clauses) => clauses.every((c) => test(c, get(c.field))));
}

function splitOutsideQuotes(text: string, sep: RegExp): string[] {
  const parts: string[] = [];
  let last = 0;
  let inQuote = false;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"' && text[i - 1] !== '\\') inQuote = !inQuote;
    if (inQuote) continue;
    const m = new RegExp(`^(?:${sep.source})`, 'i').exec(text.slice(i));
    if (m && i > 0) {
      parts.push(text.slice(last, i));
      last = i + m[0].length;
      i = last - 1;
    }
  }
  parts.push(text.slice(last));
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

function parseClause(text: string): Clause {
  const m = /^([a-z_][a-z0-9_.]*)\s*(!=|>=|<=|!~|=|>|<|~)\s*(.+)$/i.exec(text.trim());
  if (!m) throw new BbqlError(`Invalid query: ${text}`);
  const raw = m[3]!.trim();
  let value: Clause['value'];
  if (/^".*"$/.test(raw)) value = raw.slice(1, -1).replace(/\\"/g, '"');
  else if (raw === 'null') value = null;
  else if (raw === 'true' || raw === 'false') value = raw === 'true';
  else if (/^-?\d+(\.\d+)?$/.test(raw)) value = Number(raw);
  else value = raw; // dates and bare words
  return { field: m[1]!, op: m[2]!, value };
}

function test(c: Clause, actual: string | number | boolean | null | undefined): boolean {
  if (actual === undefined) throw new BbqlError(`Invalid field name: ${c.field}`);
  const isDate = c.field.endsWith('_on');
  const norm = (v: unknown): unknown =>
    isDate && typeof v === 'string' ? Date.parse(v.length === 10 ? `${v}T00:00:00Z` : v) : v;
  const a = norm(actual) as number | string | boolean | null;
  const b = norm(c.value) as number | string | boolean | null;
  switch (c.op) {
    case '=':
      return a === b;
    case '!=':
      return a !== b;
    case '~':
      return String(a).toLowerCase().includes(String(b).toLowerCase());
    case '!~':
      return !String(a).toLowerCase().includes(String(b).toLowerCase());
    default:
      if (a === null || b === null) return false;
      if (c.op === '>') return a > b;
      if (c.op === '>=') return a >= b;
      if (c.op === '<') return a < b;
      return a <= b;
  }
}
