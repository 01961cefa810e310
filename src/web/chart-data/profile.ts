import { parseDay, periodLabel } from './dates';
import type { PeriodPoint } from './series';

export interface MonthActivity {
  month: string;
  label: string;
  commits: number;
  linesAdded: number;
  linesRemoved: number;
  repositories: { name: string; commits: number; linesAdded: number; linesRemoved: number }[];
}

/**
 * A person's activity list, newest month first: per month, the repositories they committed to and how much,
 * from one monthly series per repository. Quiet months are left out.
 */
export function monthlyActivity(perRepository: { name: string; series: PeriodPoint[] }[]): MonthActivity[] {
  const months = new Map<string, MonthActivity>();
  for (const { name, series } of perRepository) {
    for (const p of series) {
      if (p.commits === 0) continue;
      const month = p.period.slice(0, 7);
      let entry = months.get(month);
      if (!entry) {
        entry = {
          month,
          label: periodLabel(`${month}-01`, 'month'),
          commits: 0,
          linesAdded: 0,
          linesRemoved: 0,
          repositories: [],
        };
        months.set(month, entry);
      }
      entry.commits += p.commits;
      entry.linesAdded += p.linesAdded;
      entry.linesRemoved += p.linesRemoved;
      entry.repositories.push({
        name,
        commits: p.commits,
        linesAdded: p.linesAdded,
        linesRemoved: p.linesRemoved,
      });
    }
  }
  for (const entry of months.values())
    entry.repositories.sort((a, b) => b.commits - a.commits || a.name.localeCompare(b.name));
  return [...months.values()].sort(
    (a, b) => parseDay(`${b.month}-01`).getTime() - parseDay(`${a.month}-01`).getTime(),
  );
}
