import { addDays, monthName, parseDay, weekdayOf } from './dates';

export interface CalendarDay {
  date: string;
  commits: number;
}

export interface CalendarCell {
  date: string;
  commits: number;
  /** 0 (none) … 4 (busiest), by quartiles of the non-zero days, like GitHub's calendar. */
  level: 0 | 1 | 2 | 3 | 4;
}

export interface CalendarGrid {
  /** Columns of weeks (Sunday first within a week); cells outside the year are null. */
  weeks: (CalendarCell | null)[][];
  months: { label: string; week: number }[];
  total: number;
  activeDays: number;
  thresholds: number[];
}

/** Cut points for levels 1–4: the quartiles of the non-zero counts. */
export function levelThresholds(counts: number[]): number[] {
  const nonZero = counts.filter((c) => c > 0).sort((a, b) => a - b);
  if (nonZero.length === 0) return [1, 1, 1, 1];
  const q = (f: number) => nonZero[Math.min(nonZero.length - 1, Math.floor(f * nonZero.length))]!;
  return [1, q(0.25), q(0.5), q(0.75)];
}

export function levelOf(commits: number, thresholds: number[]): CalendarCell['level'] {
  if (commits <= 0) return 0;
  let level = 1;
  for (let i = 1; i < thresholds.length; i++) if (commits > thresholds[i]!) level = i + 1;
  return Math.min(4, level) as CalendarCell['level'];
}

/** The last 53 weeks ending on `today`, laid out week by week as a contributions calendar. */
export function calendarGrid(days: CalendarDay[], today: string): CalendarGrid {
  const byDate = new Map<string, number>();
  for (const d of days) byDate.set(d.date, (byDate.get(d.date) ?? 0) + d.commits);
  const first = addDays(today, -364);
  const gridStart = addDays(first, -weekdayOf(first));
  const counts: number[] = [];
  for (let d = first; d <= today; d = addDays(d, 1)) counts.push(byDate.get(d) ?? 0);
  const thresholds = levelThresholds(counts);

  const weeks: (CalendarCell | null)[][] = [];
  const months: CalendarGrid['months'] = [];
  let total = 0;
  let activeDays = 0;
  for (let weekStart = gridStart, w = 0; weekStart <= today; weekStart = addDays(weekStart, 7), w++) {
    const week: (CalendarCell | null)[] = [];
    for (let i = 0; i < 7; i++) {
      const date = addDays(weekStart, i);
      if (date < first || date > today) {
        week.push(null);
        continue;
      }
      const commits = byDate.get(date) ?? 0;
      total += commits;
      if (commits > 0) activeDays++;
      week.push({ date, commits, level: levelOf(commits, thresholds) });
      if (parseDay(date).getUTCDate() === 1 || date === first) {
        const label = monthName(parseDay(date).getUTCMonth());
        if (months.at(-1)?.week !== w) months.push({ label, week: w });
      }
    }
    weeks.push(week);
  }
  // A label squeezed into the first partial column would overlap the next month's.
  if (months.length > 1 && months[1]!.week - months[0]!.week < 3) months.shift();
  return { weeks, months, total, activeDays, thresholds };
}

/** Longest run of consecutive active days. */
export function longestStreak(days: CalendarDay[]): number {
  const active = [...new Set(days.filter((d) => d.commits > 0).map((d) => d.date))].sort();
  let best = 0;
  let run = 0;
  let previous = '';
  for (const date of active) {
    run = previous && addDays(previous, 1) === date ? run + 1 : 1;
    best = Math.max(best, run);
    previous = date;
  }
  return best;
}
