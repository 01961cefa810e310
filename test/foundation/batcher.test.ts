import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FairAdmission } from '../../src/platform/admission';
import { Batcher } from '../../src/platform/batcher';

/** A write that records its batches and holds each one until released. */
function gatedWrite() {
  const batches: string[][] = [];
  const gates: (() => void)[] = [];
  const write = async (items: string[]) => {
    batches.push(items);
    await new Promise<void>((resolve) => gates.push(resolve));
    return items.map((i) => i.toUpperCase());
  };
  const releaseNext = async () => {
    while (gates.length === 0) await new Promise((resolve) => setImmediate(resolve));
    gates.shift()!();
  };
  return { batches, write, releaseNext };
}

describe('group commit batches', () => {
  it('take one item per key in turn: a quiet key is in the next batch however much a busy one has waiting', async () => {
    const g = gatedWrite();
    const batcher = new Batcher(g.write, { maxBatch: 4, maxBytes: Infinity, maxInFlight: 1 });
    const results = [batcher.submit('f0', 'flood')];
    for (let i = 1; i <= 9; i++) results.push(batcher.submit(`f${i}`, 'flood'));
    results.push(batcher.submit('q0', 'quiet'), batcher.submit('q1', 'quiet'));
    for (let i = 0; i < 4; i++) await g.releaseNext();
    assert.deepEqual(await Promise.all(results), [
      ...Array.from({ length: 10 }, (_, i) => `F${i}`),
      'Q0',
      'Q1',
    ]);
    assert.deepEqual(g.batches, [
      ['f0'],
      ['f1', 'q0', 'f2', 'q1'],
      ['f3', 'f4', 'f5', 'f6'],
      ['f7', 'f8', 'f9'],
    ]);
  });

  it('hold at most maxBytes, a single larger item going alone', async () => {
    const g = gatedWrite();
    const batcher = new Batcher(g.write, { maxBatch: 100, maxBytes: 250, maxInFlight: 1 });
    const sizes: Record<string, number> = { a: 10, b: 100, c: 100, d: 100, e: 1000, f: 60, g: 60 };
    const results = Object.entries(sizes).map(([item, bytes]) => batcher.submit(item, item, bytes));
    for (let i = 0; i < 5; i++) await g.releaseNext();
    await Promise.all(results);
    assert.deepEqual(g.batches, [['a'], ['b', 'c'], ['d'], ['e'], ['f', 'g']]);
    for (const batch of g.batches.filter((b) => b.length > 1))
      assert.ok(batch.reduce((sum, item) => sum + sizes[item]!, 0) <= 250);
  });
});

describe('fair admission', () => {
  it('holds at most capacity in all and a share per key, and takes keys in again once released', () => {
    const admission = new FairAdmission(8, 0.25);
    assert.equal(admission.perKey, 2);
    const a = [admission.tryAdmit('a'), admission.tryAdmit('a')];
    assert.ok(a.every(Boolean));
    assert.equal(admission.tryAdmit('a'), null, 'past its share');
    const others = ['b', 'b', 'c', 'c', 'd', 'd'].map((key) => admission.tryAdmit(key));
    assert.ok(others.every(Boolean));
    assert.equal(admission.holding(), 8);
    assert.equal(admission.tryAdmit('e'), null, 'the queue is full');
    a[0]!();
    a[0]!();
    assert.equal(admission.holding(), 7, 'a release counts once');
    assert.equal(admission.holding('a'), 1);
    assert.ok(admission.tryAdmit('e'));
    assert.equal(admission.tryAdmit('a'), null, 'full again');
  });
});
