/**
 * UTC time buckets of the rollup tables, and the split of a time range into the coarsest buckets that tile it.
 */

export type GrainName = 'hour' | 'day' | 'month' | 'year';

export interface Grain {
  name: GrainName;
  floor(ms: number): number;
  next(bucketMs: number): number;
}

const HOUR = 3_600_000;
const DAY = 86_400_000;

export const GRAINS: Record<GrainName, Grain> = {
  hour: { name: 'hour', floor: (ms) => Math.floor(ms / HOUR) * HOUR, next: (b) => b + HOUR },
  day: { name: 'day', floor: (ms) => Math.floor(ms / DAY) * DAY, next: (b) => b + DAY },
  month: {
    name: 'month',
    floor: (ms) => {
      const d = new Date(ms);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    },
    next: (b) => {
      const d = new Date(b);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    },
  },
  year: {
    name: 'year',
    floor: (ms) => Date.UTC(new Date(ms).getUTCFullYear(), 0, 1),
    next: (b) => Date.UTC(new Date(b).getUTCFullYear() + 1, 0, 1),
  },
};

const ceil = (grain: Grain, ms: number) => {
  const floor = grain.floor(ms);
  return floor === ms ? ms : grain.next(floor);
};

export interface Piece {
  grain: GrainName;
  from: number;
  to: number;
}

/**
 * Tiles [from, to) (both on whole UTC hours) with year, month and hour buckets: whole years in the middle,
 * whole months around them, hours at the ragged ends. At most five pieces.
 */
export function tileRange(from: number, to: number): Piece[] {
  if (from >= to) return [];
  const monthFrom = ceil(GRAINS.month, from);
  const monthTo = GRAINS.month.floor(to);
  if (monthFrom >= monthTo) return [{ grain: 'hour', from, to }];
  const yearFrom = ceil(GRAINS.year, monthFrom);
  const yearTo = GRAINS.year.floor(monthTo);
  const pieces: Piece[] = [{ grain: 'hour', from, to: monthFrom }];
  if (yearFrom >= yearTo) {
    pieces.push({ grain: 'month', from: monthFrom, to: monthTo });
  } else {
    pieces.push(
      { grain: 'month', from: monthFrom, to: yearFrom },
      { grain: 'year', from: yearFrom, to: yearTo },
      { grain: 'month', from: yearTo, to: monthTo },
    );
  }
  pieces.push({ grain: 'hour', from: monthTo, to });
  return pieces.filter((p) => p.from < p.to);
}

export const floorHour = GRAINS.hour.floor;
export const ceilHour = (ms: number) => ceil(GRAINS.hour, ms);
