import { addDays, addMonths, isDay, type Interval, intervalFor } from '../chart-data/dates';
import type { Metric } from '../chart-data/contributors';

/**
 * The filters every page shares, kept in the URL query so a view can be linked and reloaded.
 * Only values that differ from the defaults are written, so plain links stay plain.
 */
export type Preset = '30d' | '90d' | '6m' | '1y' | '2y' | 'all' | 'custom';

export const PRESETS: { value: Preset; label: string }[] = [
  { value: '30d', label: 'Last 30 days' },
  { value: '90d', label: 'Last 90 days' },
  { value: '6m', label: 'Last 6 months' },
  { value: '1y', label: 'Last 12 months' },
  { value: '2y', label: 'Last 2 years' },
  { value: 'all', label: 'All time' },
  { value: 'custom', label: 'Custom range' },
];

export interface Filters {
  range: Preset;
  /** Only for the custom range: inclusive `YYYY-MM-DD` days. */
  from: string | null;
  to: string | null;
  /** Count merge commits (off by default: a merge repeats lines its branch already counted). */
  merges: boolean;
  /** Count commits by bots (off by default). */
  bots: boolean;
  metric: Metric;
  /** Workspace page: the repositories shown (uuids); empty = all. */
  repos: string[];
  /** Workspace page: the Bitbucket projects shown (uuids); empty = all. */
  projects: string[];
  /** The time charts' bucket: fitted to the range (`auto`), or the day, week or month picked. */
  interval: IntervalChoice;
}

export type IntervalChoice = 'auto' | Interval;
export const INTERVALS: { value: IntervalChoice; label: string }[] = [
  { value: 'auto', label: 'Auto' },
  { value: 'day', label: 'Day' },
  { value: 'week', label: 'Week' },
  { value: 'month', label: 'Month' },
];

export const DEFAULT_FILTERS: Filters = {
  range: 'all',
  from: null,
  to: null,
  merges: false,
  bots: false,
  metric: 'commits',
  repos: [],
  projects: [],
  interval: 'auto',
};

/** Query keys the filters own; everything else in the URL (module parameters) is left alone. */
const FILTER_KEYS = ['range', 'from', 'to', 'merges', 'bots', 'metric', 'repos', 'projects', 'interval'];
/** Bitbucket's one-time page token must never be kept or re-used from the address bar. */
const NEVER_KEEP = ['jwt'];

const flag = (value: string | null, fallback: boolean) =>
  value === '1' || value === 'true' ? true : value === '0' || value === 'false' ? false : fallback;

const list = (value: string | null) =>
  (value ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);

export function parseFilters(search: string | URLSearchParams): Filters {
  const q = typeof search === 'string' ? new URLSearchParams(search) : search;
  const from = q.get('from');
  const to = q.get('to');
  const hasCustom = from !== null && isDay(from) && to !== null && isDay(to) && from <= to;
  const rangeParam = q.get('range') as Preset | null;
  let range: Preset = PRESETS.some((p) => p.value === rangeParam) ? rangeParam! : DEFAULT_FILTERS.range;
  if (hasCustom && (rangeParam === null || rangeParam === 'custom')) range = 'custom';
  if (range === 'custom' && !hasCustom) range = DEFAULT_FILTERS.range;
  const metric = q.get('metric');
  const interval = INTERVALS.find((i) => i.value === q.get('interval'))?.value ?? DEFAULT_FILTERS.interval;
  return {
    range,
    from: range === 'custom' ? from : null,
    to: range === 'custom' ? to : null,
    merges: flag(q.get('merges'), DEFAULT_FILTERS.merges),
    bots: flag(q.get('bots'), DEFAULT_FILTERS.bots),
    metric: metric === 'additions' || metric === 'deletions' || metric === 'commits' ? metric : 'commits',
    repos: list(q.get('repos')),
    projects: list(q.get('projects')),
    // Days over all time could be more than the server's ten years of buckets: the fitted interval then.
    interval: interval === 'day' && range === 'all' ? DEFAULT_FILTERS.interval : interval,
  };
}

/** The query string for these filters on top of `base` (module parameters kept, `jwt` dropped). */
export function serializeFilters(filters: Filters, base: string | URLSearchParams = ''): string {
  const q = new URLSearchParams(base);
  for (const key of [...FILTER_KEYS, ...NEVER_KEEP]) q.delete(key);
  if (filters.range === 'custom' && filters.from && filters.to) {
    q.set('from', filters.from);
    q.set('to', filters.to);
  } else if (filters.range !== DEFAULT_FILTERS.range && filters.range !== 'custom') {
    q.set('range', filters.range);
  }
  if (filters.merges !== DEFAULT_FILTERS.merges) q.set('merges', filters.merges ? '1' : '0');
  if (filters.bots !== DEFAULT_FILTERS.bots) q.set('bots', filters.bots ? '1' : '0');
  if (filters.metric !== DEFAULT_FILTERS.metric) q.set('metric', filters.metric);
  if (filters.repos.length > 0) q.set('repos', filters.repos.join(','));
  if (filters.projects.length > 0) q.set('projects', filters.projects.join(','));
  if (filters.interval !== DEFAULT_FILTERS.interval) q.set('interval', filters.interval);
  const text = q.toString();
  return text ? `?${text}` : '';
}

export interface ResolvedRange {
  /** Null for "all time": the API then answers from the first commit. */
  from: string | null;
  to: string;
}

/** The concrete days a preset covers, ending today. */
export function resolveRange(filters: Filters, today: string): ResolvedRange {
  switch (filters.range) {
    case '30d':
      return { from: addDays(today, -29), to: today };
    case '90d':
      return { from: addDays(today, -89), to: today };
    case '6m':
      return { from: addDays(addMonths(today, -6), 1), to: today };
    case '1y':
      return { from: addDays(addMonths(today, -12), 1), to: today };
    case '2y':
      return { from: addDays(addMonths(today, -24), 1), to: today };
    case 'custom':
      return { from: filters.from!, to: filters.to! };
    default:
      return { from: null, to: today };
  }
}

const COARSENESS: Interval[] = ['day', 'week', 'month'];

/**
 * The bucket size to ask the server for: fitted to the span, or weekly for "all time" (whose span is only known
 * once data arrives; weeks can still be summed into months for display, never split into days).
 */
export function requestInterval(range: ResolvedRange, chosen: IntervalChoice = 'auto'): Interval {
  if (chosen !== 'auto') return chosen;
  return range.from === null ? 'week' : intervalFor(range.from, range.to);
}

/** The range to draw: "all time" starts at the first data point (or a year back when there is none). */
export function drawnRange(
  range: ResolvedRange,
  firstDataDay: string | null,
  chosen: IntervalChoice = 'auto',
): { from: string; to: string; interval: Interval } {
  const from =
    range.from ?? (firstDataDay && firstDataDay < range.to ? firstDataDay : addDays(range.to, -364));
  if (chosen !== 'auto') return { from, to: range.to, interval: chosen };
  const fitted = intervalFor(from, range.to);
  const requested = requestInterval(range);
  const interval = COARSENESS.indexOf(fitted) > COARSENESS.indexOf(requested) ? fitted : requested;
  return { from, to: range.to, interval };
}
