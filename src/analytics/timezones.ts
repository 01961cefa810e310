import type { Trx } from '../db/database';
import { badRequest } from '../platform/errors';

/**
 * Time zones for bucketing. Rollups are in UTC hours, which map whole onto local hours in any zone whose offset
 * is a whole number of hours; zones with other offsets (India, Nepal, parts of Australia…) are answered from
 * commit facts instead (docs/analytics.md).
 */

export interface ZoneShape {
  /** Offset always 0: UTC day rollups answer day buckets. */
  alwaysUtc: boolean;
  /** Offset always a whole number of hours (1970–2100): hourly rollups answer exactly. */
  wholeHours: boolean;
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

export function zoneShape(zone: string): ZoneShape {
  const known = shapes.get(zone);
  if (known) return known;
  const format = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
  let alwaysUtc = true;
  let wholeHours = true;
  // Weekly samples: offsets change a few times a year at most, so no period of a distinct offset is missed.
  for (let t = Date.UTC(1970, 0, 1); t < Date.UTC(2100, 0, 1); t += 7 * 86_400_000) {
    const offset = offsetMinutes(format, t);
    if (offset !== 0) alwaysUtc = false;
    if (offset % 60 !== 0) {
      wholeHours = false;
      break;
    }
  }
  const shape = { alwaysUtc, wholeHours };
  shapes.set(zone, shape);
  return shape;
}
