/**
 * CSV (RFC 4180) lines. Text cells that a spreadsheet would run as a formula (leading = + - @ tab or CR) get a
 * leading apostrophe (OWASP's advice for CSV injection); numbers, booleans and dates are written as they are.
 */

export type Cell = string | number | boolean | Date | null | undefined | string[];

function cellText(value: Cell): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return cellText(value.join(' '));
  if (typeof value !== 'string') return String(value);
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvLine(cells: Cell[]): string {
  return `${cells.map(cellText).join(',')}\r\n`;
}

/** The header line and a row writer for objects with the given columns. */
export function csvTable<T>(columns: (keyof T & string)[]) {
  return {
    header: csvLine(columns),
    row: (row: T) => csvLine(columns.map((c) => row[c] as Cell)),
  };
}
