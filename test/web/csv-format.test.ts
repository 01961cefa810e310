import assert from 'node:assert/strict';
import { test } from 'node:test';
import { downloadName, toCsv } from '../../src/web/chart-data/csv';
import { exclusionImpact, parsePatterns } from '../../src/web/chart-data/exclusions';
import { formatCompact, formatEta, formatHours } from '../../src/web/chart-data/format';
import { buildQuery } from '../../src/web/api/client';

test('toCsv quotes what needs quoting and defuses formulas', () => {
  const csv = toCsv(
    [
      { header: 'name', value: (r: { name: string; n: number | null }) => r.name },
      { header: 'n', value: (r) => r.n },
    ],
    [
      { name: 'Ada, "the" Countess', n: 3 },
      { name: '=HYPERLINK("x")', n: null },
      { name: 'line\nbreak', n: -2 },
    ],
  );
  assert.equal(csv, 'name,n\r\n"Ada, ""the"" Countess",3\r\n"\'=HYPERLINK(""x"")",\r\n"line\nbreak",-2\r\n');
});

test('downloadName is a safe, descriptive file name', () => {
  assert.equal(
    downloadName(['Contributors', 'commits', 'my repo', '2024-01-01', 'to', '2024-12-31'], 'csv'),
    'tally-contributors-commits-my-repo-2024-01-01-to-2024-12-31.csv',
  );
  assert.equal(downloadName([null, ''], 'png'), 'tally-graph.png');
});

test('exclusion patterns and their impact', () => {
  assert.deepEqual(parsePatterns(' package-lock.json\n# comment\n\n*.min.js\npackage-lock.json\r\n'), [
    'package-lock.json',
    '*.min.js',
  ]);
  const impact = exclusionImpact(
    { linesAdded: 900, linesRemoved: 100 },
    { linesAdded: 600, linesRemoved: 50 },
  );
  assert.equal(impact.excludedLines, 350);
  assert.equal(impact.excludedPercent, 35);
  assert.equal(
    exclusionImpact({ linesAdded: 0, linesRemoved: 0 }, { linesAdded: 0, linesRemoved: 0 }).excludedPercent,
    0,
  );
});

test('formatting', () => {
  assert.equal(formatCompact(1234), '1.2k');
  assert.equal(formatCompact(-2_500_000), '−2.5M');
  assert.equal(formatCompact(999), '999');
  assert.equal(formatEta(null), '—');
  assert.equal(formatEta(30), 'under a minute');
  assert.equal(formatEta(3 * 3600 + 5 * 60), '3 h 5 min');
  assert.equal(formatEta(50 * 3600), '2 d 2 h');
  assert.equal(formatHours(0.5), '30 min');
  assert.equal(formatHours(72), '3 d');
});

test('buildQuery leaves out empty values and repeats list keys', () => {
  assert.equal(
    buildQuery({ a: 1, b: null, c: undefined, d: '', e: [], f: ['x', 'y'], g: false }),
    '?a=1&f=x&f=y&g=false',
  );
  assert.equal(buildQuery({}), '');
});
