/** The mark the speed bench reads: the first time a page shows real numbers (a chart or table with data). */
export const MEANINGFUL_PAINT = 'tally:first-meaningful-paint';

let marked = false;

/** Marks the next frame after the first data render, once per page load. */
export function markMeaningfulPaint(): void {
  if (marked) return;
  marked = true;
  requestAnimationFrame(() => setTimeout(() => performance.mark(MEANINGFUL_PAINT), 0));
}
