import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  apiToken,
  isTopological,
  readExport,
  revList,
  startHarness,
  walkPages,
  type ExportLine,
  type Harness,
  type Loose,
} from './helpers.js';

describe('commits, commit and diffstat over the express export', () => {
  let h: Harness;
  let commits: ExportLine[];
  let byHash: Map<string, ExportLine>;
  let refs: Awaited<ReturnType<typeof readExport>>['refs'];
  const repo = '/2.0/repositories/acme/express';

  before(async () => {
    h = await startHarness({ rateLimitPerHour: Infinity });
    ({ commits, refs } = await readExport());
    byHash = new Map(commits.map((c) => [c.hash, c]));
  });
  after(() => h.close());

  it('pages through all 6,413 commits at pagelen=100, newest first and topologically ordered', async () => {
    const { values, pages } = await walkPages(h.get, `${repo}/commits?pagelen=100`);
    const hashes = values.map((v) => v.hash as string);
    assert.equal(commits.length, 6413);
    assert.equal(hashes.length, 6413);
    assert.equal(pages, 65);
    assert.deepEqual(new Set(hashes), new Set(commits.map((c) => c.hash)));
    assert.ok(isTopological(hashes, byHash), 'a commit appeared after one of its parents');
    assert.equal(hashes[0], commits[0]!.hash, 'the newest commit comes first');
  });

  it('uses opaque absolute next links that keep include/exclude and pagelen', async () => {
    const first = await h.get(`${repo}/commits/master?exclude=4.x&pagelen=3`);
    assert.equal(first.status, 200);
    const next = new URL(first.body.next);
    assert.equal(`${next.protocol}//${next.host}`, h.sim.apiUrl);
    assert.deepEqual(next.searchParams.getAll('exclude'), ['4.x']);
    assert.equal(next.searchParams.get('pagelen'), '3');
    assert.match(next.searchParams.get('page')!, /^[A-Za-z0-9_-]+$/);
    assert.equal(first.body.size, undefined, 'commit lists carry no size');
  });

  it('clamps pagelen above 100 and defaults to 10', async () => {
    assert.equal((await h.get(`${repo}/commits?pagelen=500`)).body.values.length, 100);
    const def = await h.get(`${repo}/commits`);
    assert.equal(def.body.pagelen, 10);
    assert.equal(def.body.values.length, 10);
    assert.equal((await h.get(`${repo}/commits?pagelen=0`)).status, 400);
  });

  const cases: [string, string[], string[]][] = [
    ['commits/master', ['master'], []],
    ['commits/master?exclude=4.x', ['master'], ['4.x']],
    ['commits?include=5.x&include=4.x&exclude=master', ['5.x', '4.x'], ['master']],
    ['commits/4.x?include=5.0&exclude=4.0.0', ['4.x', '5.0'], ['4.0.0']],
  ];
  for (const [path, include, exclude] of cases) {
    it(`${path} equals git log ${include.join(' ')} ${exclude.map((e) => `^${e}`).join(' ')}`, async () => {
      const resolve = (r: string): string => refs.branches[r] ?? refs.tags[r] ?? r;
      const expected = revList(byHash, include.map(resolve), exclude.map(resolve));
      const { values } = await walkPages(
        h.get,
        `${repo}/${path}${path.includes('?') ? '&' : '?'}pagelen=100`,
      );
      const hashes = values.map((v) => v.hash as string);
      assert.equal(hashes.length, expected.size);
      assert.deepEqual(new Set(hashes), expected);
      assert.ok(isTopological(hashes, byHash));
    });
  }

  it('lists every branch and tag but the excluded ones for ?exclude=master (git log --all ^master)', async () => {
    const tips = [...Object.values(refs.branches), ...Object.values(refs.tags)];
    const expected = revList(byHash, tips, [refs.branches.master!]);
    const { values } = await walkPages(h.get, `${repo}/commits?exclude=master&pagelen=100`);
    assert.deepEqual(new Set(values.map((v) => v.hash)), expected);
  });

  it('accepts include/exclude in a form-encoded POST body', async () => {
    const url = `${h.sim.apiUrl}${repo}/commits?pagelen=100`;
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        Authorization: `JWT ${apiToken(h.inst, 'POST', url)}`,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: 'include=master&exclude=4.x',
    });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { values: { hash: string }[] };
    const expected = revList(byHash, [refs.branches.master!], [refs.branches['4.x']!]);
    assert.equal(body.values.length, Math.min(100, expected.size));
    for (const v of body.values) assert.ok(expected.has(v.hash));
  });

  it('404s with a Bitbucket error body for an unknown revision or repository', async () => {
    const res = await h.get(`${repo}/commits/no-such-branch`);
    assert.equal(res.status, 404);
    assert.equal(res.body.type, 'error');
    assert.equal(typeof res.body.error.message, 'string');
    assert.equal((await h.get('/2.0/repositories/acme/nope/commits')).status, 404);
    assert.equal((await h.get(`${repo}/commit/0000000000000000000000000000000000000000`)).status, 404);
  });

  it('serves a commit by full or short hash, with author.user only for mapped emails', async () => {
    const c = commits.find((x) => x.parents.length === 2)!;
    for (const id of [c.hash, c.hash.slice(0, 7), c.hash.slice(0, 12)]) {
      const res = await h.get(`${repo}/commit/${id}`);
      assert.equal(res.status, 200);
      assert.equal(res.body.hash, c.hash);
      assert.deepEqual(
        res.body.parents.map((p: { hash: string }) => p.hash),
        c.parents,
      );
      assert.equal(res.body.author.raw, `${c.author.name} <${c.author.email}>`);
      assert.match(res.body.date, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
      assert.equal(Date.parse(res.body.date), Date.parse(c.date));
      assert.deepEqual(res.body.participants, []);
    }
    const bot = commits.find((x) => x.author.email.includes('[bot]'))!;
    const res = await h.get(`${repo}/commit/${bot.hash}`);
    assert.equal(res.body.author.user, undefined);
  });

  it('diffstat of every merge, rename and binary commit equals the export (merges vs first parent)', async () => {
    const sample = commits.filter(
      (c) => c.parents.length > 1 || c.files.some((f) => f.old_path || f.added === null),
    );
    assert.ok(sample.length > 500);
    for (const c of sample) {
      const res = await h.get(`${repo}/diffstat/${c.hash}?pagelen=5000`);
      assert.equal(res.status, 200);
      const got = res.body.values.map((d: Loose) => ({
        path: (d.new ?? d.old).path,
        old: d.status === 'renamed' ? d.old.path : undefined,
        added: d.lines_added,
        removed: d.lines_removed,
        binary: (d.new ?? d.old).attributes === 'binary',
      }));
      const want = c.files.map((f) => ({
        path: f.path,
        old: f.old_path,
        added: f.added ?? 0,
        removed: f.removed ?? 0,
        binary: f.added === null,
      }));
      assert.deepEqual(got, want, `diffstat of ${c.hash}`);
      for (const d of res.body.values) {
        if (d.status !== 'added') assert.equal(d.old.links.self.href.includes(`/src/${c.parents[0]}/`), true);
        if (d.status !== 'removed') assert.equal(d.new.links.self.href.includes(`/src/${c.hash}/`), true);
      }
    }
  });

  it('diffstat pages at pagelen with page numbers and size', async () => {
    const big = commits.reduce((a, b) => (b.files.length > a.files.length ? b : a));
    const first = await h.get(`${repo}/diffstat/${big.hash}?pagelen=2`);
    assert.equal(first.body.size, big.files.length);
    assert.equal(first.body.page, 1);
    const { values } = await walkPages(h.get, `${repo}/diffstat/${big.hash}?pagelen=2`);
    assert.equal(values.length, big.files.length);
  });

  it('diffstat infers added/removed: the root commit adds everything', async () => {
    const root = commits.find((c) => c.parents.length === 0)!;
    const res = await h.get(`${repo}/diffstat/${root.hash}`);
    assert.ok(res.body.values.every((d: Loose) => d.status === 'added' && d.old === null));
  });
});
