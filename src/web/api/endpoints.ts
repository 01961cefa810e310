import type { ApiClient, QueryValue } from './client';
import type { CalendarDay } from '../chart-data/calendar';
import type { Contributor } from '../chart-data/contributors';
import { addDays, type Interval } from '../chart-data/dates';
import type { LineTotals } from '../chart-data/exclusions';
import type { CreatedMergedPoint } from '../chart-data/pull-requests';
import type { PunchCardCell } from '../chart-data/punch-card';
import type { PeriodPoint } from '../chart-data/series';
import { createFreshness, type Freshness, type FreshnessFields } from './freshness';
import type { components, paths } from './schema';

/**
 * The analytics, repository and trust API as the pages use it (src/api/*-routes.ts). Raw payloads (snake_case,
 * as the server sends) are mapped to the chart-data types here and nowhere else, so a contract change touches
 * one file. Their types are generated from docs/openapi.json (./schema.d.ts, `npm run api-types`), so a change of
 * the documented API that the pages do not follow fails the typecheck.
 */

/** The JSON body of a 200 answer to `GET path`, as docs/openapi.json describes it. */
type Answer<P extends keyof paths> = paths[P] extends {
  get: { responses: { 200: { content: { 'application/json': infer Body } } } };
}
  ? Body
  : never;
type Schema = components['schemas'];

export interface StatsQuery {
  repos: string[];
  /** Bitbucket project uuids (their repositories); empty or absent = no project filter. */
  projects?: string[];
  /** Inclusive first and last day; null from = since the first commit. */
  from: string | null;
  to: string;
  interval: Interval;
  merges: boolean;
  bots: boolean;
  /** A contributor key (`a:…`, `e:…`) or a Bitbucket user uuid. */
  contributor?: string;
  /** A team's id: its members' contributions (pull requests: those they authored). */
  team?: number;
}

/** Whose pull requests: `author` wrote them, `reviewer` reviewed them (contributor keys or user uuids). */
export interface PullRequestPeople {
  author?: string;
  reviewer?: string;
}

export interface Team {
  id: number;
  name: string;
  members: string[];
}

/** The server takes a half-open [since, until) range of local days. */
export function statsParams(
  q: StatsQuery,
  extra: Record<string, QueryValue> = {},
): Record<string, QueryValue> {
  return {
    repository: q.repos,
    project: q.projects && q.projects.length > 0 ? q.projects : undefined,
    since: q.from,
    until: addDays(q.to, 1),
    merges: q.merges ? 'include' : 'exclude',
    bots: q.bots ? 'include' : 'exclude',
    contributor: q.contributor,
    team: q.team,
    ...extra,
  };
}

const point = (p: Schema['Point']): PeriodPoint => ({
  period: p.period.slice(0, 10),
  commits: p.commits,
  linesAdded: p.lines_added,
  linesRemoved: p.lines_removed,
  linesTotal: p.lines_total,
});

export interface RepositoryStatus {
  uuid: string;
  fullName: string;
  state: 'listing' | 'diffstats' | 'ready' | 'failed';
  commitsKnown: number;
  commitsWithLines: number;
  requestsUsed: number;
  etaSeconds: number | null;
  project: Project | null;
}

export interface Project {
  uuid: string;
  key: string;
  name: string;
}

/** One graph bucket or one person: what a drill-down lists the commits of. */
export interface DrillTarget {
  day?: string;
  week?: string;
  month?: string;
  contributor?: string;
}

export interface CommitItem {
  hash: string;
  date: string;
  authorKey: string;
  authorName: string;
  repository: string;
  summary: string;
  merge: boolean;
  linesAdded: number;
  linesRemoved: number;
  link: string;
}

export interface CommitPage {
  commits: CommitItem[];
  nextCursor: string | null;
  jiraSiteUrl: string | null;
}

/** Indexing progress with the hourly request budget in force (the configure page). */
export interface Indexing {
  repositories: RepositoryStatus[];
  requestsPerHour: number;
  /** `announced`: Bitbucket's answers announce the limit; `configured`: BITBUCKET_REQUESTS_PER_HOUR. */
  budgetSource: 'configured' | 'announced';
}

export interface RepositoryTotals {
  uuid: string;
  fullName: string;
  commits: number;
  linesAdded: number;
  linesRemoved: number;
}

const repositoryTotals = (r: Schema['RepositoryTotals']): RepositoryTotals => ({
  uuid: r.uuid,
  fullName: r.full_name,
  commits: r.commits,
  linesAdded: r.lines_added,
  linesRemoved: r.lines_removed,
});

export interface PullRequestStats {
  series: CreatedMergedPoint[];
  totals: { created: number; merged: number; declined: number; open: number };
  timeToMerge: { count: number; p50: number | null; p90: number | null };
  histogram: { label: string; count: number }[];
  reviewers: { name: string; reviews: number; approvals: number; changesRequested: number }[];
}

export interface Settings {
  timezone: string;
  pathExclusions: string[];
  useDefaultExclusions: boolean;
  botPatterns: string[];
  useDefaultBots: boolean;
  /** The experimental fast path for line counts (reads diff text; counted in a stream, never kept). */
  lineCountsFromPatches: boolean;
  jiraSiteUrl: string | null;
  defaults: { pathExclusions: string[]; botPatterns: string[] };
}

export interface Identity {
  key: string;
  name: string;
  emails: string[];
  accountId: string | null;
  mergedInto: string | null;
  commits: number;
}

export interface Consent {
  grantedBy: string;
  reason: string;
  grantedAt: string;
  expiresAt: string;
}

/** An API token as listed (never its secret). */
export interface ApiTokenInfo {
  id: number;
  name: string;
  created_by: string;
  created_at: string;
  last_used_at: string | null;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
}

export function endpoints(api: ApiClient, freshness: Freshness = createFreshness()) {
  /** A stats or pull-request answer: its freshness feeds the page's "Updating…" status (./freshness.ts). */
  const stats = async <P extends keyof paths>(
    path: P,
    params: Record<string, QueryValue>,
    signal?: AbortSignal,
  ): Promise<Answer<P>> => {
    const body = await api.get<Answer<P>>(path, params, signal);
    freshness.report(path, body as FreshnessFields);
    return body;
  };
  const activity = async (q: StatsQuery, signal?: AbortSignal): Promise<PeriodPoint[]> => {
    const body = await stats('/stats/activity', statsParams(q, { interval: q.interval }), signal);
    return body.series.map(point);
  };
  const repositoryList = async (signal?: AbortSignal): Promise<Indexing & { publicOnly: boolean }> => {
    const body = await api.get<Answer<'/repositories'>>('/repositories', {}, signal);
    return {
      publicOnly: body.visibility === 'public_only',
      requestsPerHour: body.requests_per_hour,
      budgetSource: body.requests_per_hour_source,
      repositories: body.repositories.map((r) => ({
        uuid: r.uuid,
        fullName: r.full_name,
        state: r.state,
        commitsKnown: r.commits_known,
        commitsWithLines: r.commits_with_lines,
        requestsUsed: r.requests_used,
        etaSeconds: r.eta_seconds,
        project: r.project,
      })),
    };
  };
  const top = async (params: Record<string, QueryValue>, signal?: AbortSignal) => {
    const body = await stats('/stats/top', params, signal);
    return { people: body.people, repositories: body.repositories.map(repositoryTotals) };
  };

  return {
    /** How current the latest stats answers are (the page header's "Updating…"). */
    freshness,

    async me(): Promise<{ workspace: string | null; accountId: string | null }> {
      return api.get<Answer<'/me'>>('/me');
    },

    async repositories(signal?: AbortSignal): Promise<RepositoryStatus[]> {
      return (await repositoryList(signal)).repositories;
    },

    /** The repositories the page may read, and whether private ones are left out (a profile page). */
    repositoryList,

    /** Every contributor in scope with totals (series are fetched per contributor: see contributorSeries). */
    async contributors(q: StatsQuery, signal?: AbortSignal): Promise<Contributor[]> {
      const body = await stats('/stats/contributors', statsParams(q), signal);
      return body.contributors.map((c) => ({
        id: c.key,
        name: c.display_name,
        avatarUrl: null,
        commits: c.commits,
        linesAdded: c.lines_added,
        linesRemoved: c.lines_removed,
        series: [],
      }));
    },

    /** Commits and lines per period (commit activity and code frequency share it). */
    activity,

    async contributorSeries(key: string, q: StatsQuery, signal?: AbortSignal): Promise<PeriodPoint[]> {
      return activity({ ...q, contributor: key }, signal);
    },

    async punchCard(
      q: StatsQuery,
      signal?: AbortSignal,
    ): Promise<{ cells: PunchCardCell[]; timezone: string; note: string | null }> {
      const body = await stats('/stats/punchcard', statsParams(q), signal);
      return { cells: body.cells, timezone: body.timezone, note: body.note || null };
    },

    async topRepositories(q: StatsQuery, signal?: AbortSignal): Promise<RepositoryTotals[]> {
      return (await top(statsParams(q, { by: 'commits', limit: 100 }), signal)).repositories;
    },

    /** Lines per repository with and without path exclusions: the exclusions' effect. */
    async exclusionEffect(
      signal?: AbortSignal,
    ): Promise<{ repository: string; before: LineTotals; after: LineTotals }[]> {
      const [before, after] = await Promise.all([
        top({ by: 'lines', limit: 100, exclusions: 'ignore' }, signal),
        top({ by: 'lines', limit: 100, exclusions: 'apply' }, signal),
      ]);
      const afterByUuid = new Map(after.repositories.map((r) => [r.uuid, r]));
      return before.repositories.map((r) => {
        const a = afterByUuid.get(r.uuid);
        return {
          repository: r.fullName,
          before: { linesAdded: r.linesAdded, linesRemoved: r.linesRemoved },
          after: { linesAdded: a?.linesAdded ?? 0, linesRemoved: a?.linesRemoved ?? 0 },
        };
      });
    },

    async calendar(
      user: string,
      from: string,
      to: string,
      merges: boolean,
      signal?: AbortSignal,
    ): Promise<CalendarDay[]> {
      const body = await stats(
        '/stats/calendar',
        {
          contributor: user,
          since: from,
          until: addDays(to, 1),
          merges: merges ? 'include' : 'exclude',
          bots: 'include',
        },
        signal,
      );
      return body.days;
    },

    async pullRequests(
      q: StatsQuery,
      signal?: AbortSignal,
      people: PullRequestPeople = {},
    ): Promise<PullRequestStats> {
      // Pull requests have authors and reviewers, not commit contributors.
      const params = statsParams({ ...q, contributor: undefined }, { interval: q.interval, ...people });
      const body = await stats('/pull-requests/stats', params, signal);
      return {
        series: body.series.map((s) => ({
          period: s.period.slice(0, 10),
          created: s.created,
          merged: s.merged,
        })),
        totals: body.totals,
        timeToMerge: {
          count: body.time_to_merge.count,
          p50: body.time_to_merge.p50,
          p90: body.time_to_merge.p90,
        },
        histogram: body.time_to_merge.histogram.map((b) => ({ label: b.label, count: b.count })),
        reviewers: body.reviewers.map((r) => ({
          name: r.display_name ?? 'Unknown',
          reviews: r.reviews,
          approvals: r.approvals,
          changesRequested: r.changes_requested,
        })),
      };
    },

    /** The commits behind a bar, a day or a person, newest first, one page at a time (`cursor`: the last page's). */
    async commits(
      q: StatsQuery,
      target: DrillTarget,
      cursor: string | null,
      signal?: AbortSignal,
    ): Promise<CommitPage> {
      const body = await api.get<Answer<'/commits'>>(
        '/commits',
        statsParams(
          { ...q, contributor: target.contributor ?? q.contributor },
          {
            day: target.day,
            week: target.week,
            month: target.month,
            cursor: cursor ?? undefined,
            limit: 50,
          },
        ),
        signal,
      );
      return {
        jiraSiteUrl: body.jira_site_url,
        nextCursor: body.next_cursor,
        commits: body.commits.map((c) => ({
          hash: c.hash,
          date: c.date,
          authorKey: c.author_key,
          authorName: c.author_name,
          repository: c.repository.full_name,
          summary: c.summary,
          merge: c.merge,
          linesAdded: c.lines_added,
          linesRemoved: c.lines_removed,
          link: c.link,
        })),
      };
    },

    /** A server-side CSV export (every commit or pull request in scope). */
    async exportCsv(kind: 'commits' | 'pull-requests', q: StatsQuery): Promise<string> {
      const { contributor: _contributor, ...params } = statsParams(q, { format: 'csv' });
      return api.text(`/export/${kind}`, params);
    },

    async settings(): Promise<Settings> {
      const body = await api.get<Answer<'/settings'>>('/settings');
      return {
        timezone: body.timezone,
        pathExclusions: body.path_exclusions,
        useDefaultExclusions: body.default_path_exclusions,
        botPatterns: body.bot_patterns,
        useDefaultBots: body.default_bot_patterns,
        lineCountsFromPatches: body.line_counts_from_patches,
        jiraSiteUrl: body.jira_site_url,
        defaults: { pathExclusions: body.defaults.path_exclusions, botPatterns: body.defaults.bot_patterns },
      };
    },

    async saveSettings(settings: Partial<Omit<Settings, 'defaults'>>): Promise<void> {
      const body: Record<string, unknown> = {};
      if (settings.timezone !== undefined) body.timezone = settings.timezone;
      if (settings.pathExclusions !== undefined) body.path_exclusions = settings.pathExclusions;
      if (settings.useDefaultExclusions !== undefined)
        body.default_path_exclusions = settings.useDefaultExclusions;
      if (settings.botPatterns !== undefined) body.bot_patterns = settings.botPatterns;
      if (settings.useDefaultBots !== undefined) body.default_bot_patterns = settings.useDefaultBots;
      if (settings.lineCountsFromPatches !== undefined)
        body.line_counts_from_patches = settings.lineCountsFromPatches;
      if (settings.jiraSiteUrl !== undefined) body.jira_site_url = settings.jiraSiteUrl;
      await api.send('PUT', '/settings', body);
    },

    async identities(signal?: AbortSignal): Promise<Identity[]> {
      const body = await api.get<Answer<'/identities'>>('/identities', {}, signal);
      return body.identities.map((i) => ({
        key: i.key,
        name: i.display_name,
        emails: i.emails,
        accountId: i.account_id,
        mergedInto: i.merged_into,
        commits: i.commits,
      }));
    },

    async mergeIdentities(into: string, from: string[]): Promise<void> {
      await api.send('POST', '/identities/merge', { into, from });
    },

    async unmergeIdentity(key: string): Promise<void> {
      await api.send('DELETE', `/identities/merge/${encodeURIComponent(key)}`);
    },

    async consent(): Promise<Consent | null> {
      const body = await api.get<Answer<'/support/consent'>>('/support/consent');
      const c = body.consent;
      return (
        c && { grantedBy: c.grantedBy, reason: c.reason, grantedAt: c.grantedAt, expiresAt: c.expiresAt }
      );
    },

    async grantConsent(days: number, reason: string): Promise<void> {
      await api.send('POST', '/support/consent', { days, reason });
    },

    async revokeConsent(): Promise<void> {
      await api.send('DELETE', '/support/consent');
    },

    async apiTokens(): Promise<ApiTokenInfo[]> {
      return (await api.get<{ tokens: ApiTokenInfo[] }>('/tokens')).tokens;
    },

    /** The new token's secret: the only time it is shown. */
    async createApiToken(name: string): Promise<ApiTokenInfo & { token: string }> {
      return api.send('POST', '/tokens', { name });
    },

    async revokeApiToken(id: number): Promise<void> {
      await api.send('DELETE', `/tokens/${id}`);
    },

    async teams(signal?: AbortSignal): Promise<Team[]> {
      const body = await api.get<Answer<'/teams'>>('/teams', {}, signal);
      return body.teams.map((t) => ({ id: t.id, name: t.name, members: t.members }));
    },

    /** Creates (no id) or replaces a team. */
    async saveTeam(team: { id?: number; name: string; members: string[] }): Promise<void> {
      const body = { name: team.name, members: team.members };
      if (team.id === undefined) await api.send('POST', '/teams', body);
      else await api.send('PUT', `/teams/${team.id}`, body);
    },

    async deleteTeam(id: number): Promise<void> {
      await api.send('DELETE', `/teams/${id}`);
    },

    async deleteAllData(workspaceSlug: string): Promise<void> {
      await api.send('POST', '/data/delete', { confirm: workspaceSlug });
    },

    async audit(signal?: AbortSignal): Promise<AuditEntry[]> {
      const body = await api.get<Answer<'/audit'>>('/audit', { limit: 50 }, signal);
      return body.entries.map((e) => ({ id: e.id, at: e.at, actor: e.actor, action: e.action }));
    },
  };
}

export type Endpoints = ReturnType<typeof endpoints>;
