/**
 * Calendar arithmetic on `YYYY-MM-DD` day strings. Days are UTC calendar days: the server has already moved
 * timestamps into the workspace's time zone, so the UI never converts again.
 */
export type Interval = 'day' | 'week' | 'month';

const DAY_MS = 86_400_000;

export function parseDay(day: string): Date {
  return new Date(`${day.slice(0, 10)}T00:00:00Z`);
}

export function formatDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

export function isDay(value: string): boolean {
  return (
    /^\d{4}-\d{2}-\d{2}$/.test(value) &&
    !Number.isNaN(parseDay(value).getTime()) &&
    formatDay(parseDay(value)) === value
  );
}

export function addDays(day: string, days: number): string {
  return formatDay(new Date(parseDay(day).getTime() + days * DAY_MS));
}

export function addMonths(day: string, months: number): string {
  const d = parseDay(day);
  const target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d.getUTCDate(), lastDay));
  return formatDay(target);
}

export function daysBetween(from: string, to: string): number {
  return Math.round((parseDay(to).getTime() - parseDay(from).getTime()) / DAY_MS);
}

/** 0 = Sunday … 6 = Saturday, like Date#getUTCDay. */
export function weekdayOf(day: string): number {
  return parseDay(day).getUTCDay();
}

/** Weeks start on Monday (ISO 8601), as the server's weekly buckets do. */
export function startOfWeek(day: string): string {
  const weekday = weekdayOf(day);
  return addDays(day, -((weekday + 6) % 7));
}

export function startOfMonth(day: string): string {
  return `${day.slice(0, 7)}-01`;
}

export function periodStart(day: string, interval: Interval): string {
  if (interval === 'week') return startOfWeek(day);
  if (interval === 'month') return startOfMonth(day);
  return day.slice(0, 10);
}

export function nextPeriod(period: string, interval: Interval): string {
  if (interval === 'day') return addDays(period, 1);
  if (interval === 'week') return addDays(period, 7);
  return addMonths(period, 1);
}

/** Every period start from the one containing `from` to the one containing `to`, inclusive. */
export function enumeratePeriods(from: string, to: string, interval: Interval, limit = 5000): string[] {
  const periods: string[] = [];
  const last = periodStart(to, interval);
  for (
    let p = periodStart(from, interval);
    p <= last && periods.length < limit;
    p = nextPeriod(p, interval)
  ) {
    periods.push(p);
  }
  return periods;
}

/** A readable interval for a span: days up to ~3 months, weeks up to ~3 years, then months. */
export function intervalFor(from: string, to: string): Interval {
  const span = daysBetween(from, to);
  if (span <= 92) return 'day';
  if (span <= 3 * 366) return 'week';
  return 'month';
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function monthName(monthIndex: number): string {
  return MONTHS[monthIndex] ?? '';
}

/** Short axis label for a period start. */
export function periodLabel(period: string, interval: Interval): string {
  const d = parseDay(period);
  if (interval === 'month') return `${monthName(d.getUTCMonth())} ${d.getUTCFullYear()}`;
  return `${monthName(d.getUTCMonth())} ${d.getUTCDate()}, ${d.getUTCFullYear()}`;
}
