import { encodeRefName, link, type Json, type Payloads } from './payloads.js';
import type { Repository } from './store.js';

/** Bitbucket puts at most this many commits in a repo:push change. */
export const PUSH_COMMIT_LIMIT = 5;

export interface RefState {
  type: 'branch' | 'tag';
  name: string;
  /** Node id of the target commit. */
  target: number;
}

/** The repository object of webhook payloads (shorter than the REST one, plus owner/project). */
export function webhookRepository(p: Payloads, repo: Repository): Json {
  const ref = p.repositoryRef(repo);
  return {
    ...ref,
    is_private: repo.isPrivate,
    scm: 'git',
    website: null,
    workspace: p.workspace(repo.workspace),
    project: p.project(repo.workspace, repo.project),
    owner: p.team(repo.workspace),
  };
}

/** A commit inside a push change or a ref target. */
function pushCommit(p: Payloads, repo: Repository, id: number): Json {
  const full = p.commit(repo, id);
  const { repository: _omit, ...rest } = full;
  return rest;
}

export function refObject(p: Payloads, repo: Repository, ref: RefState): Json {
  const api = p.repoApi(repo);
  const name = encodeRefName(ref.name);
  if (ref.type === 'tag') {
    return {
      type: 'tag',
      name: ref.name,
      target: pushCommit(p, repo, ref.target),
      links: {
        self: link(`${api}/refs/tags/${name}`),
        commits: link(`${api}/commits/${name}`),
        html: link(`${p.repoWeb(repo)}/commits/tag/${name}`),
      },
      // Lightweight-tag shape from real captures: these are null.
      tagger: null,
      date: null,
      message: null,
    };
  }
  return {
    type: 'branch',
    name: ref.name,
    target: pushCommit(p, repo, ref.target),
    links: {
      self: link(`${api}/refs/branches/${name}`),
      commits: link(`${api}/commits/${name}`),
      html: link(`${p.repoWeb(repo)}/branch/${name}`),
    },
    default_merge_strategy: 'merge_commit',
    merge_strategies: ['merge_commit', 'squash', 'fast_forward'],
  };
}

/**
 * One `push.changes[]` entry. New commits are those reachable from the new head but not from
 * the old one (for a created ref: not from any other ref), newest first, at most 5.
 * A deleted ref has `new: null`, `closed: true` and no `commits`/`links` keys.
 * `emptyCommits` reproduces the real capture of a PR-merge push (commits [] and not truncated).
 */
export function pushChange(
  p: Payloads,
  repo: Repository,
  change: { old: RefState | null; new: RefState | null; forced: boolean; emptyCommits?: boolean },
): Json {
  const out: Json = {
    old: change.old ? refObject(p, repo, change.old) : null,
    new: change.new ? refObject(p, repo, change.new) : null,
    created: change.old === null,
    closed: change.new === null,
    forced: change.forced,
    truncated: false,
  };
  if (!change.new) return out;
  const api = p.repoApi(repo);
  const newHash = repo.graph.hashOf(change.new.target);
  let exclude: number[];
  let excludeParam: string[];
  if (change.old) {
    exclude = [change.old.target];
    excludeParam = [repo.graph.hashOf(change.old.target)];
  } else {
    // A new ref: exclude the heads of every other branch (UNCONFIRMED how Bitbucket words this link).
    const others = [...repo.branches.entries()].filter(
      ([n]) => !(change.new!.type === 'branch' && n === change.new!.name),
    );
    exclude = others.map(([, id]) => id);
    excludeParam = [...new Set(exclude.map((id) => repo.graph.hashOf(id)))];
  }
  const list = change.emptyCommits ? new Int32Array(0) : repo.graph.query([change.new.target], exclude);
  out.truncated = list.length > PUSH_COMMIT_LIMIT;
  out.commits = Array.from(list.subarray(0, PUSH_COMMIT_LIMIT), (id) => pushCommit(p, repo, id));
  const query = [`include=${newHash}`, ...excludeParam.map((h) => `exclude=${h}`)].join('&');
  const oldHash = change.old ? repo.graph.hashOf(change.old.target) : undefined;
  out.links = {
    commits: link(`${api}/commits?${query}`),
    ...(oldHash
      ? {
          diff: link(`${api}/diff/${newHash}..${oldHash}`),
          html: link(`${p.repoWeb(repo)}/branches/compare/${newHash}..${oldHash}`),
        }
      : { html: link(`${p.repoWeb(repo)}/branch/${encodeRefName(change.new.name)}`) }),
  };
  return out;
}
