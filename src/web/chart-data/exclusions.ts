/** Path exclusions as an admin types them: one glob a line, blanks and `#` comments ignored, no duplicates. */
export function parsePatterns(text: string): string[] {
  const seen = new Set<string>();
  for (const line of text.split(/\r?\n/)) {
    const pattern = line.trim();
    if (pattern && !pattern.startsWith('#')) seen.add(pattern);
  }
  return [...seen];
}

export interface LineTotals {
  linesAdded: number;
  linesRemoved: number;
}

export interface ExclusionImpact {
  before: LineTotals;
  after: LineTotals;
  excludedLines: number;
  /** Share of all changed lines that the exclusions remove, 0–100. */
  excludedPercent: number;
}

export function exclusionImpact(before: LineTotals, after: LineTotals): ExclusionImpact {
  const total = before.linesAdded + before.linesRemoved;
  const kept = after.linesAdded + after.linesRemoved;
  const excludedLines = Math.max(0, total - kept);
  return {
    before,
    after,
    excludedLines,
    excludedPercent: total > 0 ? Math.round((excludedLines / total) * 1000) / 10 : 0,
  };
}
