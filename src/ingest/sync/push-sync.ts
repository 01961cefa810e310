import { queueCommitChanges } from '../../analytics/change-queue';
import { endpoints } from '../../bitbucket/endpoints';
import { commitSchema, type BitbucketCommit } from '../../bitbucket/schemas';
import { markHeadsLeft, namedRefs, setRef, unnamedTips, type RefKind } from '../../db/branch-store';
import { insertCommits } from '../../db/commit-store';
import type { Trx } from '../../db/database';
import { anyUnreachable } from '../../db/reachability';
import { findRepository, updateProgress, type RepositoryRecord } from '../../db/repository-store';
import type { BackfillContext } from '../backfill-jobs';
import { toCommitInput } from '../commit-mapping';
import type { TenantSession } from '../tenant-client';
import type { WebhookData } from '../webhook-payloads';
import { isNotFound } from './errors';
import { refreshIfSeeded, seedHeadsOnceListed } from './heads';
import { enqueuePushDiffstats } from './scheduling';

/**
 * `repo:push`, synced from the branch heads. A delivery is a hint that some refs changed: each ref's current head
 * is read from the API (so a delivery processed late, twice, or out of order cannot move a ref backwards: it
 * applies whatever is true now), the commits new to Tally are listed from that head until the listing reaches
 * stored commits, and everything is written in one transaction: commits, refs, reachability, the queued analytics
 * changes, and the job that fetches the new commits' line counts. A crash before that commit leaves nothing
 * behind; one after leaves the delivery processed.
 */

type PushChange = WebhookData<'repo:push'>['push']['changes'][number];
type Write = (trx: Trx) => Promise<void>;

/** Hashes excluded from a listing (each cuts off history Tally has); bounded to keep the URL short. */
const MAX_EXCLUDES = 40;
const PAGELEN = 100;

interface RefChange {
  kind: RefKind;
  name: string;
  /** What the payload said, last change first wins: to tell a plain fast-forward from anything else. */
  payloadOld: string | null;
  payloadNew: string | null;
  rewritten: boolean;
  /**
   * Hashes the payload's `links.commits.href` excludes (Bitbucket's own idea of what is not new), from the ref's
   * first change only: a later change's excludes may name commits an earlier change brought.
   */
  linkExcludes: string[];
}

interface ResolvedRef {
  kind: RefKind;
  name: string;
  /** The head now, or null when the ref no longer exists. */
  head: string | null;
}

const refKind = (type: string): RefKind => (type === 'tag' ? 'tag' : 'branch');

function linkExcludes(change: PushChange): string[] {
  const href = (change as { links?: { commits?: { href?: unknown } } }).links?.commits?.href;
  if (typeof href !== 'string') return [];
  try {
    return new URL(href).searchParams.getAll('exclude').filter((h) => /^[0-9a-f]{40}$/i.test(h));
  } catch {
    return [];
  }
}

/**
 * The refs the pushes touched, one entry per ref. Changes come in delivery order (several deliveries of one
 * repository are synced together): a ref's first change gives the old head, its last one the new head.
 */
function refChanges(changes: PushChange[]): RefChange[] {
  const byRef = new Map<string, RefChange>();
  for (const change of changes) {
    const ref = change.new ?? change.old;
    if (!ref) continue;
    const kind = refKind(ref.type);
    const key = `${kind}:${ref.name}`;
    const entry = byRef.get(key) ?? {
      kind,
      name: ref.name,
      payloadOld: change.old?.target.hash ?? null,
      payloadNew: null,
      rewritten: false,
      linkExcludes: linkExcludes(change),
    };
    entry.payloadNew = change.new?.target.hash ?? null;
    entry.rewritten ||= change.forced || change.closed;
    byRef.set(key, entry);
  }
  return [...byRef.values()];
}

/** Commits the pushes themselves brought (new heads and listed commits): never an exclude unless stored. */
const pushedHashes = (changes: PushChange[]) =>
  new Set(changes.flatMap((c) => [c.new?.target.hash, ...(c.commits ?? []).map((commit) => commit.hash)]));

function commitsUrl(
  session: TenantSession,
  repo: RepositoryRecord,
  include: string,
  exclude: string[],
  pagelen: number,
) {
  const url = new URL(endpoints.commits(session.tenant.baseApiUrl, session.workspace, repo.uuid));
  url.searchParams.set('pagelen', String(pagelen));
  url.searchParams.append('include', include);
  for (const hash of exclude) url.searchParams.append('exclude', hash);
  return url.href;
}

interface Lister {
  session: TenantSession;
  repo: RepositoryRecord;
  stored: (hashes: string[]) => Promise<Set<string>>;
  /** New commits found so far in this delivery, by hash. */
  found: Map<string, BitbucketCommit>;
}

/** The ref's head now (the newest commit of its listing), or null when Bitbucket does not know the ref. */
async function currentHead(l: Lister, name: string): Promise<string | null> {
  try {
    const page = await l.session.client.getPage(commitsUrl(l.session, l.repo, name, [], 1), commitSchema);
    return page.values[0]?.hash ?? null;
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/**
 * Lists `name` minus `exclude` newest first, keeping commits Tally does not have, until every parent of those is
 * either listed or stored (stored commits come with their ancestors: the backfill lists all history and push
 * syncs stop only at stored commits). Returns the head, or undefined when the listing is empty or an excluded
 * hash is unknown to Bitbucket (404): the caller then asks for the head alone.
 */
async function listNewCommits(
  l: Lister,
  name: string,
  exclude: string[],
): Promise<string | null | undefined> {
  let url = commitsUrl(l.session, l.repo, name, exclude, PAGELEN);
  let head: string | undefined;
  const listed = new Set<string>();
  const waiting = new Set<string>();
  for (;;) {
    let page;
    try {
      page = await l.session.client.getPage(url, commitSchema);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    head ??= page.values[0]?.hash;
    const candidates = page.values.flatMap((c) => [c.hash, ...c.parents.map((p) => p.hash)]);
    const stored = await l.stored([...candidates, ...waiting]);
    for (const commit of page.values) {
      listed.add(commit.hash);
      waiting.delete(commit.hash);
      if (stored.has(commit.hash) || l.found.has(commit.hash)) continue;
      l.found.set(commit.hash, commit);
      for (const parent of commit.parents) {
        if (!listed.has(parent.hash) && !l.found.has(parent.hash) && !stored.has(parent.hash))
          waiting.add(parent.hash);
      }
    }
    for (const hash of waiting) if (stored.has(hash)) waiting.delete(hash);
    if (waiting.size === 0 || page.next === undefined) return head;
    url = page.next;
  }
}

/**
 * Excluded from a ref's listing: what Bitbucket itself excluded, the ref's old heads, then other known heads. A
 * hash one of the pushes brought is excluded only once stored (another ref's push in the same sync may have
 * brought it, and listing stops at stored commits anyway).
 */
async function excludesFor(
  l: Lister,
  change: RefChange,
  knownHeads: string[],
  pushed: Set<string | undefined>,
): Promise<string[]> {
  const wanted = [
    ...change.linkExcludes,
    ...(change.payloadOld ? [change.payloadOld] : []),
    ...knownHeads,
  ].filter((hash) => hash !== change.payloadNew);
  const unique = [...new Set(wanted)];
  // Stored hashes only: ones Tally has not seen may be gone from Bitbucket, and one unknown hash fails the call.
  const stored = await l.stored(unique);
  return unique
    .filter((hash) => stored.has(hash) || (change.linkExcludes.includes(hash) && !pushed.has(hash)))
    .slice(0, MAX_EXCLUDES);
}

/** A repository Tally has just met: its backfill lists everything, a push sync only records the heads. */
const backfillNotStarted = (repo: RepositoryRecord) =>
  repo.syncState === 'listing' && repo.syncCursor === null && repo.commitsKnown === 0;

/** Reads what a push changed from the API (no writes) and returns the write to commit. */
export async function planPushSync(
  ctx: BackfillContext,
  session: TenantSession,
  repo: RepositoryRecord,
  changes: PushChange[],
): Promise<Write> {
  const tenantId = session.tenant.id;
  const refs = refChanges(changes);
  const pushed = pushedHashes(changes);
  const { named, tips } = await ctx.db.withTenant(tenantId, async (trx) => ({
    named: await namedRefs(trx, tenantId, repo.id),
    tips: await unnamedTips(trx, tenantId, repo.id),
  }));
  const lister: Lister = {
    session,
    repo,
    found: new Map(),
    stored: async (hashes) => {
      if (hashes.length === 0) return new Set();
      const rows = await ctx.db.withTenant(tenantId, (trx) =>
        trx('commits')
          .where({ tenant_id: tenantId, repository_id: repo.id })
          .whereRaw('hash = any(?::text[])', [[...new Set(hashes)]])
          .select('hash'),
      );
      return new Set(rows.map((r: { hash: string }) => r.hash));
    },
  };
  const mainHead = named.find((r) => r.kind === 'branch' && r.name === repo.mainbranch)?.head;
  const knownHeads = [...(mainHead ? [mainHead] : []), ...named.map((r) => r.head), ...tips];
  const resolved: ResolvedRef[] = [];
  for (const change of refs) {
    let head: string | null | undefined;
    if (!backfillNotStarted(repo))
      head = await listNewCommits(lister, change.name, await excludesFor(lister, change, knownHeads, pushed));
    if (head === undefined) head = await currentHead(lister, change.name);
    if (
      head !== null &&
      !backfillNotStarted(repo) &&
      !(await lister.stored([head])).has(head) &&
      !lister.found.has(head)
    ) {
      // The head is only reachable through an excluded hash Tally does not have (or Bitbucket refused an
      // excluded hash): list it without excludes.
      await listNewCommits(lister, change.name, []);
    }
    resolved.push({ kind: change.kind, name: change.name, head });
  }
  const commits = [...lister.found.values()];
  const requests = session.client.stats.requests;
  // Every head a change moved away from, not only each ref's first: the same as syncing the deliveries one by one.
  const left = changes.flatMap((c) => (c.old ? [c.old.target.hash] : []));
  const storedBefore = new Map(named.map((r) => [`${r.kind}:${r.name}`, r.head]));
  // Anything but a fast-forward the payload vouches for may have orphaned commits.
  const maybeOrphaning = refs.some((change, i) => {
    const before = storedBefore.get(`${change.kind}:${change.name}`);
    return (
      change.rewritten ||
      resolved[i]!.head !== change.payloadNew ||
      (before !== undefined && before !== change.payloadOld)
    );
  });

  // Lock order as in the backfill's writes (commit rows, then the repository row, then queued analytics changes), so
  // that they rarely deadlock; when they do, PostgreSQL aborts one and the queue runs its job again.
  return async (trx) => {
    const now = ctx.now();
    const current = await findRepository(trx, tenantId, repo.id);
    if (!current || current.deletedAt) return;
    const inserted = await insertCommits(trx, tenantId, repo.id, commits.map(toCommitInput));
    for (const ref of resolved) await setRef(trx, tenantId, repo.id, ref, now);
    const leftTips = await markHeadsLeft(trx, tenantId, repo.id, left, now);
    const seededNow = await seedHeadsOnceListed(trx, current, tenantId, now);
    const heads = resolved.flatMap((r) => (r.head ? [r.head] : []));
    const parents = commits.flatMap((c) => c.parents.map((p) => p.hash));
    const reachabilityMayChange =
      seededNow ||
      maybeOrphaning ||
      leftTips.length > 0 ||
      (await anyUnreachable(trx, tenantId, repo.id, [...heads, ...parents]));
    const changed = reachabilityMayChange ? await refreshIfSeeded(trx, tenantId, repo.id, now) : [];
    await updateProgress(trx, tenantId, repo.id, { commitsKnownDelta: inserted.length, requests }, now);
    await queueCommitChanges(trx, tenantId, repo.id, [...inserted, ...changed]);
    await enqueuePushDiffstats(trx, tenantId, repo.id, inserted);
  };
}
