import { link, type Json, type Payloads } from './payloads.js';
import type { ActivityEntry, PullRequest, Repository } from './store.js';
import { isoMicros, renderParagraphs, uuidFrom } from './util.js';

/** One timestamp format per PR and instant, so equal instants render equally everywhere. */
const stamp = (pr: PullRequest, ms: number): string => isoMicros(ms, `pr:${pr.id}:${ms}`);

/** Pull request hashes are 12-character short SHAs in Bitbucket payloads. */
const short = (hash: string): string => hash.slice(0, 12);

export function rendered(raw: string): Json {
  // No `type` key: the spec's rendered-text objects allow only raw/markup/html.
  return { raw, markup: 'markdown', html: renderParagraphs(raw) };
}

/** The repository a fork PR comes from: `{owner}/{repo}` with a stable uuid. */
function forkRepositoryRef(p: Payloads, repo: Repository, owner: string): Json {
  const fullName = `${owner}/${repo.slug}`;
  return {
    type: 'repository',
    full_name: fullName,
    name: repo.name,
    uuid: `{${uuidFrom(`fork:${fullName}:${repo.uuid}`)}}`,
    links: {
      self: link(`${p.apiUrl}/2.0/repositories/${fullName}`),
      html: link(`${p.webUrl}/${fullName}`),
      avatar: p.avatar('repo', fullName),
    },
  };
}

function endpoint(p: Payloads, repo: Repository, branch: string, commit: string, forkOwner?: string): Json {
  return {
    branch: { name: branch },
    // The spec allows only `hash` here (real payloads add type and links).
    commit: { hash: short(commit) },
    repository: forkOwner ? forkRepositoryRef(p, repo, forkOwner) : p.repositoryRef(repo),
  };
}

export function pullRequestLinks(p: Payloads, repo: Repository, id: number): Json {
  const api = `${p.repoApi(repo)}/pullrequests/${id}`;
  return {
    self: link(api),
    html: link(`${p.repoWeb(repo)}/pull-requests/${id}`),
    commits: link(`${api}/commits`),
    approve: link(`${api}/approve`),
    diff: link(`${api}/diff`),
    diffstat: link(`${api}/diffstat`),
    comments: link(`${api}/comments`),
    activity: link(`${api}/activity`),
    merge: link(`${api}/merge`),
    decline: link(`${api}/decline`),
  };
}

/** Short PR reference used inside activity entries. */
export function pullRequestRef(p: Payloads, repo: Repository, pr: PullRequest): Json {
  const links = pullRequestLinks(p, repo, pr.id);
  return { type: 'pullrequest', id: pr.id, title: pr.title, links: { self: links.self, html: links.html } };
}

/**
 * A pull request. Lists omit reviewers and participants (Bitbucket only returns them from
 * `GET …/pullrequests/{id}` and in webhooks). Open PRs omit merge_commit/closed_by.
 */
export function pullRequest(p: Payloads, repo: Repository, pr: PullRequest, opts: { full: boolean }): Json {
  const out: Json = {
    type: 'pullrequest',
    id: pr.id,
    title: pr.title,
    description: pr.description,
    summary: rendered(pr.description),
    // The spec's rendered object allows title and reason only.
    rendered: { title: rendered(pr.title), reason: rendered(pr.reason) },
    state: pr.state,
    draft: pr.draft,
    author: p.accountRef(pr.author),
    source: endpoint(p, repo, pr.source.branch, pr.source.commit, pr.source.forkOwner),
    destination: endpoint(p, repo, pr.destination.branch, pr.destination.commit),
    reason: pr.reason,
    created_on: stamp(pr, pr.createdMs),
    updated_on: stamp(pr, pr.updatedMs),
    comment_count: pr.commentCount,
    task_count: pr.taskCount,
    close_source_branch: pr.closeSourceBranch,
    links: pullRequestLinks(p, repo, pr.id),
  };
  if (pr.mergeCommit) out.merge_commit = { hash: short(pr.mergeCommit) };
  if (pr.closedBy) out.closed_by = p.accountRef(pr.closedBy);
  if (opts.full) {
    out.reviewers = pr.reviewers.map((r) => p.accountRef(r));
    out.participants = pr.participants.map((part) => ({
      type: 'participant',
      user: p.accountRef(part.user),
      role: part.role,
      approved: part.approved,
      state: part.state,
      participated_on: stamp(pr, part.participatedMs),
    }));
  }
  return out;
}

/** Activity endpoint commits carry type and links (the examples in the spec show them). */
function activityEndpoint(p: Payloads, repo: Repository, branch: string, commit: string): Json {
  return {
    commit: { type: 'commit', ...(p.commitRef(repo, short(commit)) as Json) },
    branch: { name: branch },
    repository: p.repositoryRef(repo),
  };
}

export function activityEntry(p: Payloads, repo: Repository, pr: PullRequest, e: ActivityEntry): Json {
  const ref = pullRequestRef(p, repo, pr);
  switch (e.kind) {
    case 'update':
      return {
        update: {
          description: pr.description,
          title: pr.title,
          destination: activityEndpoint(p, repo, pr.destination.branch, e.destinationCommit),
          source: activityEndpoint(p, repo, pr.source.branch, e.sourceCommit),
          reason: e.state === 'DECLINED' ? pr.reason : '',
          state: e.state,
          author: p.accountRef(e.author),
          date: stamp(pr, e.dateMs),
        },
        pull_request: ref,
      };
    case 'approval':
      return {
        approval: {
          date: stamp(pr, e.dateMs),
          pullrequest: ref,
          user: p.accountRef(e.user),
        },
        pull_request: ref,
      };
    case 'comment': {
      const api = `${p.repoApi(repo)}/pullrequests/${pr.id}/comments/${e.id}`;
      const when = stamp(pr, e.dateMs);
      return {
        comment: {
          id: e.id,
          type: 'pullrequest_comment',
          created_on: when,
          updated_on: when,
          content: rendered(e.text),
          user: p.accountRef(e.user),
          deleted: false,
          pullrequest: ref,
          links: {
            self: link(api),
            html: link(`${p.repoWeb(repo)}/pull-requests/${pr.id}/_/diff#comment-${e.id}`),
          },
        },
        pull_request: ref,
      };
    }
  }
}
