import type { Trx } from '../db/database';
import { badRequest } from '../platform/errors';

/**
 * Time zones for bucketing. Rollups are in UTC hours, which map whole onto local hours in any zone whose offset
 * is a whole number of hours; in zones whose offset is a whole number of hours plus 30 or 45 minutes (India,
 * Nepal, Newfoundland, South Australia…), local hours start at :30 or :15 UTC, which the shifted workspace hourly
 * rollups use (docs/analytics.md).
 */

/** A stretch of time over which a zone's local hours start at the same minute past the UTC hour. */
export interface Phase {
  /** Instants (ms), half-open. */
  from: number;
  to: number;
  /** The UTC minute (0–59) at which local hours start; null when the offset is not a whole number of minutes. */
  minute: number | null;
}

export interface ZoneShape {
  /** Offset always 0: UTC day rollups answer day buckets. */
  alwaysUtc: boolean;
  /** Offset always a whole number of hours (1970–2100): hourly rollups answer exactly. */
  wholeHours: boolean;
  /**
   * When not wholeHours: the zone's history as phases, from -∞ to +∞. Before 1970 and from 2100 the minute is null
   * (not sampled: facts answer those times exactly).
   */
  phases: Phase[];
  /** The zone's history as stretches of one offset, from -∞ to +∞ (null offset: not sampled, before 1970 and from 2100). */
  spans: Span[];
}

/** A stretch of time at one offset (minutes east of UTC). */
export interface Span {
  from: number;
  to: number;
  offset: number | null;
}

const shapes = new Map<string, ZoneShape>();
/** PostgreSQL's zone names by lower-case name. */
let databaseZones: Map<string, string> | null = null;

/** The IANA name as the runtime spells it, or null when it is not a time zone. */
export function canonicalZone(name: string): string | null {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/** A zone name both the runtime and PostgreSQL know, as PostgreSQL spells it (`utc` → `UTC`); 400 otherwise. */
export async function validZone(trx: Trx, name: string): Promise<string> {
  if (!databaseZones) {
    const { rows } = await trx.raw('select name from pg_timezone_names');
    databaseZones = new Map((rows as { name: string }[]).map((r) => [r.name.toLowerCase(), r.name]));
  }
  const known = databaseZones.get(name.toLowerCase());
  if (!known || !canonicalZone(known)) throw badRequest(`tz: unknown time zone ${JSON.stringify(name)}`);
  return known;
}

const offsetMinutes = (format: Intl.DateTimeFormat, ms: number): number => {
  const name = format.formatToParts(ms).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?/.exec(name);
  if (!m) return 0;
  const minutes = Number(m[2]) * 60 + Number(m[3] ?? 0) + Number(m[4] ?? 0) / 60;
  return m[1] === '-' ? -minutes : minutes;
};

/** The UTC minute at which local hours start under an offset in minutes; null for an offset with seconds. */
export const phaseOf = (offset: number | null): number | null =>
  offset !== null && Number.isInteger(offset) ? ((-offset % 60) + 60) % 60 : null;

const SAMPLED_FROM = Date.UTC(1970, 0, 1);
const SAMPLED_TO = Date.UTC(2100, 0, 1);
const WEEK = 7 * 86_400_000;
const MINUTE = 60_000;

export function zoneShape(zone: string): ZoneShape {
  const known = shapes.get(zone);
  if (known) return known;
  const format = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
  const offsetAt = (ms: number) => offsetMinutes(format, ms);
  let alwaysUtc = true;
  let wholeHours = true;
  const spans: Span[] = [{ from: -Infinity, to: SAMPLED_FROM, offset: null }];
  let current: Span = { from: SAMPLED_FROM, to: SAMPLED_TO, offset: offsetAt(SAMPLED_FROM) };
  // Weekly samples: offsets change a few times a year at most, so no period of a distinct offset is missed. Where
  // the offset changes between two samples, the minute it changes at is found by bisection (offsets change on
  // whole minutes).
  for (let t = SAMPLED_FROM; t < SAMPLED_TO; t += WEEK) {
    const offset = offsetAt(t);
    if (offset !== 0) alwaysUtc = false;
    if (offset % 60 !== 0) wholeHours = false;
    if (offset === current.offset) continue;
    let lo = t - WEEK; // the current offset
    let hi = t; // the new one
    while (hi - lo > MINUTE) {
      const mid = lo + Math.max(1, Math.floor((hi - lo) / 2 / MINUTE)) * MINUTE;
      if (offsetAt(mid) === offset) hi = mid;
      else lo = mid;
    }
    spans.push({ ...current, to: hi });
    current = { from: hi, to: SAMPLED_TO, offset };
  }
  spans.push(current, { from: SAMPLED_TO, to: Infinity, offset: null });
  // Phases: spans merged where local hours keep starting at the same UTC minute (daylight saving time in whole hours).
  const phases: Phase[] = [];
  for (const span of spans) {
    const minute = phaseOf(span.offset);
    const last = phases.at(-1);
    if (last && last.minute === minute && minute !== null) last.to = span.to;
    else phases.push({ from: span.from, to: span.to, minute });
  }
  const shape = { alwaysUtc, wholeHours, phases: wholeHours ? [] : phases, spans };
  shapes.set(zone, shape);
  return shape;
}
