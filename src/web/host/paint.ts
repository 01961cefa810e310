/**
 * First meaningful paint, as the browser reports it: text that appears only once a graph or table has its numbers
 * carries `elementtiming`, and the Element Timing API records when it was painted (`PerformanceElementTiming`
 * entries named by this identifier; the speed bench reads them).
 */
export const MEANINGFUL_PAINT = 'tally-meaningful-paint';

/** Spread onto an element that first renders with real numbers (a new element: timing covers first paints). */
export const meaningfulPaint = { elementtiming: MEANINGFUL_PAINT } as Record<string, string>;
