/**
 * The only Bitbucket calls Tally makes (DESIGN.md §3): GETs of these paths under the tenant's baseApiUrl.
 * Every URL the client requests, including the opaque `next` links of a page, is checked against this list,
 * so a tampered payload cannot steer Tally to another host or endpoint.
 */
const SEGMENT = '[^/?#]+';
const REPO = `/2\\.0/repositories/${SEGMENT}/${SEGMENT}`;

const ALLOWED_PATHS: RegExp[] = [
  `/2\\.0/repositories/${SEGMENT}`,
  REPO,
  `${REPO}/commits`,
  `${REPO}/commit/${SEGMENT}`,
  `${REPO}/diffstat/${SEGMENT}`,
  // Only with the workspace's opt-in (line_counts_from_patches): diff text, counted in a stream, never kept.
  `${REPO}/patch/${SEGMENT}`,
  `${REPO}/pullrequests`,
  `${REPO}/pullrequests/\\d+`,
  `${REPO}/pullrequests/\\d+/activity`,
  '/2\\.0/user',
  '/2\\.0/user/emails',
  `/2\\.0/users/${SEGMENT}`,
  // With a Forge user token only (src/bitbucket/user-permissions.ts): what the viewer may read.
  `/2\\.0/user/workspaces/${SEGMENT}/permissions/repositories`,
].map((p) => new RegExp(`^${p}/?$`));

/** Why a URL may not be requested, or null when it may. */
export function disallowedReason(url: URL, baseApiUrl: string): string | null {
  const base = new URL(baseApiUrl);
  if (url.origin !== base.origin) return `host ${url.host} is not the tenant's API host`;
  if (url.username || url.password) return 'credentials in URL';
  if (url.hash) return 'fragment in URL';
  const prefix = base.pathname.replace(/\/+$/, '');
  if (!url.pathname.startsWith(`${prefix}/`)) return 'path outside the API base';
  const path = url.pathname.slice(prefix.length);
  return ALLOWED_PATHS.some((re) => re.test(path)) ? null : `endpoint ${path} is not one Tally may call`;
}

/** Workspace and repository identifiers go into paths as `{uuid}` (renames do not break them), encoded. */
const seg = (value: string) => encodeURIComponent(value);

export function apiUrl(
  baseApiUrl: string,
  path: string,
  query: Record<string, string | number> = {},
): string {
  const url = new URL(`${baseApiUrl.replace(/\/+$/, '')}/2.0${path}`);
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, String(value));
  return url.href;
}

export const endpoints = {
  repositories: (base: string, workspace: string) =>
    apiUrl(base, `/repositories/${seg(workspace)}`, { pagelen: 100 }),
  /** One repository at most: the cheapest signed call that proves an installation's credentials and workspace. */
  firstRepository: (base: string, workspace: string) =>
    apiUrl(base, `/repositories/${seg(workspace)}`, { pagelen: 1 }),
  repository: (base: string, workspace: string, repo: string) =>
    apiUrl(base, `/repositories/${seg(workspace)}/${seg(repo)}`),
  /** Every commit on every branch (`git log --all`), newest first, 100 per page. */
  commits: (base: string, workspace: string, repo: string) =>
    apiUrl(base, `/repositories/${seg(workspace)}/${seg(repo)}/commits`, { pagelen: 100 }),
  commit: (base: string, workspace: string, repo: string, hash: string) =>
    apiUrl(base, `/repositories/${seg(workspace)}/${seg(repo)}/commit/${seg(hash)}`),
  /** One commit against its first parent; pagelen at its maximum so one request covers almost every commit. */
  diffstat: (base: string, workspace: string, repo: string, hash: string) =>
    apiUrl(base, `/repositories/${seg(workspace)}/${seg(repo)}/diffstat/${seg(hash)}`, { pagelen: 5000 }),
  /** The patch series of `newer ^older` (format-patch: one patch per non-merge commit, oldest first). */
  patchSeries: (base: string, workspace: string, repo: string, newer: string, older: string) =>
    apiUrl(base, `/repositories/${seg(workspace)}/${seg(repo)}/patch/${seg(newer)}..${seg(older)}`),
  user: (base: string) => apiUrl(base, '/user'),
  userEmails: (base: string) => apiUrl(base, '/user/emails'),
  users: (base: string, user: string) => apiUrl(base, `/users/${seg(user)}`),
  /** The token user's repository permissions in one workspace (the OpenAPI document's current, Forge-ready form). */
  userRepositoryPermissions: (base: string, workspace: string) =>
    apiUrl(base, `/user/workspaces/${seg(workspace)}/permissions/repositories`, { pagelen: 100 }),
  /** Pull requests allow at most pagelen=50 (reference §4). */
  pullRequests: (base: string, workspace: string, repo: string) =>
    apiUrl(base, `/repositories/${seg(workspace)}/${seg(repo)}/pullrequests`, { pagelen: 50 }),
  pullRequest: (base: string, workspace: string, repo: string, id: number) =>
    apiUrl(base, `/repositories/${seg(workspace)}/${seg(repo)}/pullrequests/${id}`),
  pullRequestActivity: (base: string, workspace: string, repo: string, id: number) =>
    apiUrl(base, `/repositories/${seg(workspace)}/${seg(repo)}/pullrequests/${id}/activity`, { pagelen: 50 }),
};
