import { monthName, parseDay, type Interval } from '../chart-data/dates';
import { formatCompact } from '../chart-data/format';

/** Axis tick for a period start: "Mar 2024" for weeks and months, "Mar 5" for days. */
export function tickFormatter(interval: Interval) {
  return (period: string) => {
    const d = parseDay(period);
    if (interval === 'day') return `${monthName(d.getUTCMonth())} ${d.getUTCDate()}`;
    return `${monthName(d.getUTCMonth())} ${d.getUTCFullYear()}`;
  };
}

export const compactTick = (value: number) => formatCompact(value);

export const CHART_MARGIN = { top: 8, right: 16, bottom: 0, left: 0 };
