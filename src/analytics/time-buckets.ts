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
 * Tiles [from, to) (both on boundaries of the finest grain) with the coarsest buckets that fit: whole buckets of
 * the coarsest grain in the middle, finer ones toward the ragged ends. `grains` go from finest to coarsest.
 */
export function tileRange(from: number, to: number, grains: GrainName[]): Piece[] {
  if (from >= to || grains.length === 0) return [];
  const coarsest = GRAINS[grains[grains.length - 1]!];
  const finer = grains.slice(0, -1);
  const inner = { from: ceil(coarsest, from), to: coarsest.floor(to) };
  if (finer.length === 0) return [{ grain: coarsest.name, from, to }];
  if (inner.from >= inner.to) return tileRange(from, to, finer);
  return [
    ...tileRange(from, inner.from, finer),
    { grain: coarsest.name, from: inner.from, to: inner.to },
    ...tileRange(inner.to, to, finer),
  ];
}

export const floorHour = GRAINS.hour.floor;
export const ceilHour = (ms: number) => ceil(GRAINS.hour, ms);
