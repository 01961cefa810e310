import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadGitHistory } from '../../src/simulator/git-history.js';
import { loadHistory } from '../../src/simulator/history.js';
import {
  EXPRESS_EXPORT,
  isTopological,
  startHarness,
  walkPages,
  type Harness,
  type Loose,
} from './helpers.js';

describe('history export loader', () => {
  it('loads the express export: 6,413 validated commits, branches, tags and the main branch', () => {
    const h = loadHistory({ exportFile: EXPRESS_EXPORT });
    assert.equal(h.records.length, 6413);
    assert.equal(h.meta.length, 6413);
    assert.equal(h.refs.mainbranch, 'master');
    assert.equal(Object.keys(h.refs.branches).length, 19);
    assert.equal(Object.keys(h.refs.tags ?? {}).length, 304);
    assert.equal(h.meta.filter((m) => m.parents.length === 2).length, 536);
  });

  it('rejects an invalid export line with its line number', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-export-'));
    try {
      const file = join(dir, 'bad.jsonl');
      const good = {
        hash: 'a'.repeat(40),
        parents: [],
        author: { name: 'A', email: 'a@x' },
        date: '2020-01-01T00:00:00+00:00',
        message: 'm',
        files: [],
      };
      writeFileSync(file, `${JSON.stringify(good)}\n${JSON.stringify({ ...good, hash: 'nothex' })}\n`);
      assert.throws(() => loadHistory({ exportFile: file }), /bad\.jsonl:2/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('git loader (git log --all, merges diffed against the first parent)', () => {
  let dir: string;
  let h: Harness;
  let hashes: Record<string, string>;

  const git = (args: string[], date = '2024-01-01T10:00:00+00:00'): string =>
    execFileSync('git', ['-C', dir, ...args], {
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_DATE: date,
        GIT_COMMITTER_DATE: date,
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_CONFIG_NOSYSTEM: '1',
      },
    }).trim();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sim-git-'));
    git(['init', '-q', '-b', 'main']);
    git(['config', 'user.name', 'Ann Author']);
    git(['config', 'user.email', 'ann@example.com']);
    writeFileSync(join(dir, 'a.txt'), 'a\nb\nc\n');
    writeFileSync(join(dir, 'bin.dat'), Buffer.from([0, 1, 2, 3, 0, 255]));
    git(['add', '.']);
    git(['commit', '-qm', 'root'], '2024-01-01T10:00:00+00:00');
    git(['checkout', '-qb', 'feat']);
    writeFileSync(join(dir, 'a.txt'), 'a\nb\nc\nd\n');
    git(['mv', 'bin.dat', 'bin2.dat']);
    git(['commit', '-qam', 'feat: edit and rename'], '2024-01-02T10:00:00+00:00');
    git(['checkout', '-q', 'main']);
    writeFileSync(join(dir, 'm.txt'), 'x\n');
    git(['add', 'm.txt']);
    git(['commit', '-qm', 'main: add m'], '2024-01-03T10:00:00+00:00');
    git(
      ['merge', '-q', '--no-ff', 'feat', '-m', 'Merge pull request #7 from ann/feat'],
      '2024-01-04T10:00:00+00:00',
    );
    git(['rm', '-q', 'm.txt']);
    git(['commit', '-qm', 'remove m'], '2024-01-05T10:00:00+00:00');
    git(['tag', '-a', 'v1', '-m', 'v1'], '2024-01-05T11:00:00+00:00');
    git(['tag', 'light', 'HEAD~1']);
    hashes = {
      root: git(['rev-parse', 'feat~1']),
      feat: git(['rev-parse', 'feat']),
      merge: git(['rev-parse', 'HEAD~1']),
      remove: git(['rev-parse', 'HEAD']),
    };
    h = await startHarness({ withExpress: false });
    h.sim.addRepository('acme', { slug: 'tiny', history: { gitDir: dir } });
  });
  after(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads all commits, branch heads, peeled annotated tags and HEAD as the main branch', () => {
    const { commits, refs } = loadGitHistory(dir);
    assert.equal(commits.length, 5);
    assert.deepEqual(refs.branches, { feat: hashes.feat, main: hashes.remove });
    assert.deepEqual(refs.tags, { light: hashes.merge, v1: hashes.remove });
    assert.equal(refs.mainbranch, 'main');
    const merge = commits.find((c) => c.hash === hashes.merge)!;
    assert.equal(merge.parents.length, 2);
    assert.deepEqual(merge.files, [
      { path: 'a.txt', added: 1, removed: 0, status: 'modified' },
      { path: 'bin2.dat', added: null, removed: null, status: 'renamed', old_path: 'bin.dat' },
    ]);
    assert.equal(merge.author.email, 'ann@example.com');
    assert.equal(Date.parse(merge.date), Date.parse('2024-01-04T10:00:00Z'));
  });

  it('serves the git history through the API: commits, diffstat statuses, synthesized PR', async () => {
    const { values } = await walkPages(h.get, '/2.0/repositories/acme/tiny/commits');
    assert.equal(values.length, 5);
    const byHash = new Map(
      values.map((v) => [v.hash as string, { parents: v.parents.map((p: { hash: string }) => p.hash) }]),
    );
    assert.ok(
      isTopological(
        values.map((v) => v.hash),
        byHash,
      ),
    );
    const rm = await h.get(`/2.0/repositories/acme/tiny/diffstat/${hashes.remove}`);
    assert.deepEqual(
      rm.body.values.map((d: Loose) => [d.status, d.old.path, d.new]),
      [['removed', 'm.txt', null]],
    );
    const root = await h.get(`/2.0/repositories/acme/tiny/diffstat/${hashes.root}`);
    assert.deepEqual(
      root.body.values.map((d: Loose) => [d.status, d.new.path, d.new.attributes ?? null]),
      [
        ['added', 'a.txt', null],
        ['added', 'bin.dat', 'binary'],
      ],
    );
    const pr = await h.get('/2.0/repositories/acme/tiny/pullrequests/7');
    assert.equal(pr.body.state, 'MERGED');
    assert.equal(pr.body.source.branch.name, 'feat');
  });
});
