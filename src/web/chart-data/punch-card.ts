/** Commits by weekday and hour of day (in the workspace's time zone), drawn as bubbles. */
export interface PunchCardCell {
  /** 0 = Sunday … 6 = Saturday. */
  weekday: number;
  hour: number;
  commits: number;
}

export const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** Display order: Monday first, as Bitbucket's own week does. */
export const WEEKDAY_ORDER = [1, 2, 3, 4, 5, 6, 0];

export interface PunchCardGrid {
  /** grid[row][hour]; rows follow WEEKDAY_ORDER. */
  grid: number[][];
  max: number;
  total: number;
  /** Flat points for a scatter chart: x = hour, y = row index (0 = Monday at the top). */
  points: { hour: number; row: number; weekday: number; commits: number }[];
}

/** A full 7 × 24 grid; missing cells are zero and repeated cells add up. */
export function punchCardGrid(cells: PunchCardCell[]): PunchCardGrid {
  const grid = WEEKDAY_ORDER.map(() => Array.from({ length: 24 }, () => 0));
  for (const cell of cells) {
    const row = WEEKDAY_ORDER.indexOf(cell.weekday);
    if (row < 0 || cell.hour < 0 || cell.hour > 23) continue;
    grid[row]![cell.hour]! += cell.commits;
  }
  let max = 0;
  let total = 0;
  const points: PunchCardGrid['points'] = [];
  grid.forEach((hours, row) =>
    hours.forEach((commits, hour) => {
      max = Math.max(max, commits);
      total += commits;
      points.push({ hour, row, weekday: WEEKDAY_ORDER[row]!, commits });
    }),
  );
  return { grid, max, total, points };
}

/** Bubble radius by area (so a cell with 4× the commits looks 4× as big), at most `maxRadius`. */
export function bubbleRadius(commits: number, max: number, maxRadius: number): number {
  if (commits <= 0 || max <= 0) return 0;
  return Math.max(1.5, Math.sqrt(commits / max) * maxRadius);
}

export function hourLabel(hour: number): string {
  if (hour === 0) return '12a';
  if (hour === 12) return '12p';
  return hour < 12 ? `${hour}a` : `${hour - 12}p`;
}
