import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PatchSeriesCounter, messageLooksLikePatch } from '../../src/bitbucket/patch-series';
import { apiToken, readExport, revList, startHarness, type ExportLine, type Harness } from './helpers.js';

/**
 * `GET …/patch/{spec}` as Bitbucket's OpenAPI description gives it (a patch series for `A..B`: A's non-merge
 * commits that B lacks, text/plain), and the streaming counter Tally reads it with: per file, its counts equal the
 * history's numstat exactly; hostile text fails the series or the patch, never miscounts.
 */
describe('patch series: the simulator serves them, the counter reads them exactly', () => {
  let h: Harness;
  let commits: ExportLine[];
  let byHash: Map<string, ExportLine>;
  let main: string;
  const repo = '/2.0/repositories/acme/express';

  before(async () => {
    h = await startHarness({ rateLimitPerHour: Infinity });
    const exported = await readExport();
    commits = exported.commits;
    byHash = new Map(commits.map((c) => [c.hash, c]));
    main = exported.refs.branches[exported.refs.mainbranch]!;
  });
  after(() => h.close());

  const fetchText = async (path: string) => {
    const url = `${h.sim.apiUrl}${path}`;
    return fetch(url, { headers: { Authorization: `JWT ${apiToken(h.inst, 'GET', url)}` } });
  };

  /** Streams the body through a counter, in the chunks the network delivers. */
  async function count(path: string, expected: Set<string>): Promise<PatchSeriesCounter> {
    const res = await fetchText(path);
    assert.equal(res.status, 200, path);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const counter = new PatchSeriesCounter(expected);
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) counter.write(Buffer.from(chunk));
    counter.end();
    return counter;
  }

  const isBinary = (c: ExportLine) => c.files.some((f) => f.added === null || f.removed === null);

  it('one series for the whole main line: every non-merge commit once, oldest first, counts equal to the numstat', async () => {
    const root = commits.find((c) => c.parents.length === 0)!;
    const reachable = revList(byHash, [main], [root.hash]);
    const wanted = [...reachable].filter((hash) => byHash.get(hash)!.parents.length < 2);
    assert.ok(wanted.length > 4000, 'most of the history');
    const counter = await count(`${repo}/patch/${main}..${root.hash}`, new Set(wanted));
    assert.equal(counter.failure, null);
    assert.equal(counter.patches.length, wanted.length, 'one patch per non-merge commit');
    const position = new Map(counter.patches.map((p, i) => [p.hash, i]));
    for (const p of counter.patches) {
      const parent = byHash.get(p.hash)!.parents[0]!;
      if (position.has(parent)) assert.ok(position.get(parent)! < position.get(p.hash)!, 'parents first');
    }
    let renames = 0;
    let binaries = 0;
    for (const p of counter.patches) {
      const c = byHash.get(p.hash)!;
      if (isBinary(c)) {
        binaries++;
        assert.equal(p.files, null, `${p.hash}: a binary file sends the commit to its diffstat`);
        continue;
      }
      assert.ok(p.files, p.hash);
      assert.deepEqual(
        p.files.map((f) => [f.path, f.oldPath, f.linesAdded, f.linesRemoved]),
        c.files.map((f) => [f.path, f.old_path ?? null, f.added, f.removed]),
        p.hash,
      );
      renames += p.files.filter((f) => f.status === 'renamed').length;
    }
    assert.ok(renames > 100 && binaries > 5, `renames ${renames}, binary commits ${binaries}`);
  });

  it('a single commit gives its own patch; unknown commits are 404; merges and empty commits are left out', async () => {
    const plain = commits.find((c) => c.parents.length === 1 && c.files.length > 0 && !isBinary(c))!;
    const one = await count(`${repo}/patch/${plain.hash}`, new Set([plain.hash]));
    assert.deepEqual(
      one.patches.map((p) => p.hash),
      [plain.hash],
    );
    assert.equal((await fetchText(`${repo}/patch/${'0'.repeat(40)}..${plain.hash}`)).status, 404);
    const merge = commits.find((c) => c.parents.length === 2)!;
    const text = await (await fetchText(`${repo}/patch/${merge.hash}..${merge.parents[0]}`)).text();
    assert.ok(!text.includes(`From ${merge.hash} `), 'no patch for the merge itself');
  });

  it('commit messages that look like patch structure are recognised (their commits are never asked for by range)', () => {
    assert.ok(messageLooksLikePatch('Fix\n\ndiff --git a/x b/x'));
    assert.ok(messageLooksLikePatch('Fix\n---\nnotes'));
    assert.ok(messageLooksLikePatch(`Fix\nFrom ${'a'.repeat(40)} Mon Sep 17 00:00:00 2001`));
    assert.ok(!messageLooksLikePatch('Fix the --- handling\n\nfrom now on, diff less'));
  });
});

describe('the patch counter refuses hostile text', () => {
  const A = 'a'.repeat(40);
  const B = 'b'.repeat(40);
  const patch = (hash: string, diff: string) =>
    `From ${hash} Mon Sep 17 00:00:00 2001\nFrom: X <x@example.com>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n` +
    `Subject: [PATCH] change\n\n---\n 1 file changed\n\n${diff}-- \n2.43.0\n\n`;
  const modified = (path: string, lines: string[]) =>
    `diff --git a/${path} b/${path}\nindex 1111111..2222222 100644\n--- a/${path}\n+++ b/${path}\n` +
    `@@ -1,${lines.filter((l) => !l.startsWith('+')).length} +1,${lines.filter((l) => !l.startsWith('-')).length} @@\n` +
    `${lines.join('\n')}\n`;
  const run = (text: string | Buffer, expected = [A, B], chunk = 7) => {
    const counter = new PatchSeriesCounter(new Set(expected), { maxLineBytes: 1024 });
    const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
    for (let i = 0; i < bytes.length; i += chunk) counter.write(bytes.subarray(i, i + chunk));
    counter.end();
    return counter;
  };

  it('counts hunk lines by the header, whatever they hold: fake headers, control characters, enormous lines', () => {
    const hostile = [
      `+From ${B} Mon Sep 17 00:00:00 2001`,
      '+diff --git a/evil b/evil',
      `+${'\u0000\u001b[31m'.repeat(10)}`,
      `+${'x'.repeat(100_000)}`,
      ' context',
      '-gone',
    ];
    const c = run(patch(A, modified('src/a.js', hostile)) + patch(B, modified('b.js', ['+one'])));
    assert.equal(c.failure, null);
    assert.deepEqual(c.patches, [
      {
        hash: A,
        files: [{ path: 'src/a.js', oldPath: null, status: 'modified', linesAdded: 4, linesRemoved: 1 }],
      },
      {
        hash: B,
        files: [{ path: 'b.js', oldPath: null, status: 'modified', linesAdded: 1, linesRemoved: 0 }],
      },
    ]);
  });

  it('fails the series on a commit not asked for, a duplicate, an overlong header line, or a malformed hunk', () => {
    assert.match(run(patch('c'.repeat(40), modified('x', ['+1'])))!.failure!, /not asked for/);
    assert.match(
      run(patch(A, modified('x', ['+1'])) + patch(A, modified('x', ['+1']))).failure!,
      /two patches/,
    );
    assert.match(run(patch(A, modified(`${'p'.repeat(5000)}`, ['+1']))).failure!, /too long/);
    assert.match(
      run(patch(A, modified('x', ['+1', '*2']).replace('+1,2', '+1,1'))).failure!,
      /more lines|unexpected/,
    );
    assert.match(run(patch(A, modified('x', ['+1', 'Xbad']))).failure!, /unexpected character/);
    assert.match(run(`garbage\n${patch(A, modified('x', ['+1']))}`).failure!, /does not start/);
    assert.match(run(patch(A, 'diff --git nonsense\n')).failure!, /path cannot be read/);
    assert.match(
      run(patch(A, modified('x', ['+1']).replace('+++ b/x\n', ''))).failure!,
      /before the file names/,
    );
    assert.match(run(patch(A, `${modified('x', ['+1'])}\nextra text\n`)).failure!, /after the end/);
  });

  it('a series cut off keeps only the patches that ended; binary files, copies and odd paths need the diffstat', () => {
    const whole = patch(A, modified('x', ['+1'])) + patch(B, modified('y', ['+1', '+2', '+3']));
    const cut = new PatchSeriesCounter(new Set([A, B]));
    cut.write(Buffer.from(whole.slice(0, whole.indexOf('+2'))));
    assert.deepEqual(
      cut.patches.map((p) => p.hash),
      [A],
    );
    const binary = `diff --git a/img.png b/img.png\nindex 1111111..2222222 100644\nBinary files a/img.png and b/img.png differ\n`;
    const copy = `diff --git a/x b/y\nsimilarity index 100%\ncopy from x\ncopy to y\n`;
    const quoted = `diff --git "a/tab\\there" "b/tab\\there"\nold mode 100644\nnew mode 100755\n`;
    const c = run(patch(A, binary + modified('x', ['+1'])) + patch(B, copy));
    assert.equal(c.failure, null);
    assert.deepEqual(
      c.patches.map((p) => p.files),
      [null, null],
    );
    const q = run(patch(A, quoted), [A]);
    assert.equal(q.failure, null);
    assert.equal(q.patches[0]!.files, null, 'a control character in a path: the diffstat decides');
    const utf8 = run(patch(A, modified('caf\u00e9.txt', ['+1']).replace(/a\/caf\u00e9/g, 'a/caf\u00e9')), [
      A,
    ]);
    assert.equal(utf8.patches[0]!.files![0]!.path, 'caf\u00e9.txt');
    const octal = `diff --git "a/caf\\303\\251.txt" "b/caf\\303\\251.txt"\nold mode 100644\nnew mode 100755\n`;
    assert.equal(run(patch(A, octal), [A]).patches[0]!.files![0]!.path, 'caf\u00e9.txt');
  });
});
