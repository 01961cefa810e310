import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { CommitGraph } from '../../src/simulator/commit-graph.js';

const hex = (i: number): string => i.toString(16).padStart(40, '0');

/** Random DAG: node i picks up to 2 parents among earlier nodes; times are random (clock skew included). */
const dag = fc.integer({ min: 1, max: 60 }).chain((n) =>
  fc.record({
    parents: fc.tuple(
      ...Array.from({ length: n }, (_, i) =>
        i === 0
          ? fc.constant<number[]>([])
          : fc.uniqueArray(fc.integer({ min: 0, max: i - 1 }), { maxLength: 2 }),
      ),
    ),
    times: fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: n, maxLength: n }),
    include: fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { minLength: 1, maxLength: 3 }),
    exclude: fc.uniqueArray(fc.integer({ min: 0, max: n - 1 }), { maxLength: 2 }),
  }),
);

function naive(parents: number[][], include: number[], exclude: number[]): Set<number> {
  const walk = (starts: number[], stop: Set<number>): Set<number> => {
    const seen = new Set<number>();
    const stack = starts.filter((s) => !stop.has(s));
    while (stack.length) {
      const id = stack.pop()!;
      if (seen.has(id) || stop.has(id)) continue;
      seen.add(id);
      stack.push(...parents[id]!);
    }
    return seen;
  };
  return walk(include, walk(exclude, new Set()));
}

describe('CommitGraph', () => {
  it('query(include, exclude) = git rev-list semantics, children before parents, in any load order', () => {
    fc.assert(
      fc.property(dag, fc.boolean(), ({ parents, times, include, exclude }, reversed) => {
        const nodes = parents.map((ps, i) => ({ hash: hex(i), parents: ps.map(hex), timeMs: times[i]! }));
        const g = new CommitGraph();
        g.addAll(reversed ? [...nodes].reverse() : nodes);
        const id = (i: number): number => g.idOf(hex(i))!;
        const got = Array.from(g.query(include.map(id), exclude.map(id)), (x) =>
          Number.parseInt(g.hashOf(x), 16),
        );
        assert.deepEqual(new Set(got), naive(parents, include, exclude));
        const pos = new Map(got.map((x, i) => [x, i]));
        for (const x of got)
          for (const p of parents[x]!) if (pos.has(p)) assert.ok(pos.get(p)! > pos.get(x)!);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the order topological when commits are appended after sorting', () => {
    const g = new CommitGraph();
    g.addAll([
      { hash: hex(0), parents: [], timeMs: 100 },
      { hash: hex(1), parents: [hex(0)], timeMs: 200 },
    ]);
    assert.deepEqual(Array.from(g.fullOrder()), [1, 0]);
    g.append(hex(2), [hex(1)], 50); // older clock, still a child
    g.append(hex(3), [hex(2)], 60);
    assert.deepEqual(
      Array.from(g.fullOrder(), (i) => Number.parseInt(g.hashOf(i), 16)),
      [3, 2, 1, 0],
    );
    assert.equal(g.isAncestor(g.idOf(hex(0))!, g.idOf(hex(3))!), true);
    assert.equal(g.isAncestor(g.idOf(hex(3))!, g.idOf(hex(0))!), false);
  });

  it('resolves unique short hashes and refuses ambiguous ones', () => {
    const g = new CommitGraph();
    g.addAll([
      { hash: `abcd1${'0'.repeat(35)}`, parents: [], timeMs: 0 },
      { hash: `abcd2${'0'.repeat(35)}`, parents: [], timeMs: 0 },
    ]);
    assert.equal(g.resolvePrefix('abcd1'), 0);
    assert.equal(g.resolvePrefix('abcd2000'), 1);
    assert.equal(g.resolvePrefix('abcd'), undefined);
    assert.equal(g.resolvePrefix('abc'), undefined, 'fewer than 4 characters');
    assert.equal(g.resolvePrefix('ffff'), undefined);
  });
});
