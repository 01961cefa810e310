// Generated from docs/openapi.json by openapi-typescript (`npm run api-types`). Do not edit by hand.

export interface paths {
  '/openapi.json': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** This document */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description OpenAPI 3.1 document */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': Record<string, never>;
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/me': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The tenant and viewer of the session token, and what the token may read */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description OK */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              clientKey: string;
              workspace: string | null;
              accountId: string | null;
              /** @description What this token may read (SECURITY.md, "Who sees what"), decided by the page that minted it. */
              scope: {
                /** @description The Tally page that minted the token. */
                page: string | null;
                /** @enum {string} */
                kind: 'workspace' | 'repository' | 'profile';
                /** @description An admin page (workspace analytics, configure): admin data readable. */
                admin: boolean;
                /** @description Readable repositories (uuids); null = every repository of the workspace. On the Forge app's member pages with the viewer's user token: the public repositories plus those Bitbucket says the viewer may read. */
                repositories: string[] | null;
                /** @description A profile page's person (user uuid; `a:<account id>` on the Forge app's My contributions page): answers are narrowed to their contributions. */
                contributor: string | null;
                /**
                 * @description `public_only`: private repositories are left out (shown to workspace admins on the admin pages).
                 * @enum {string}
                 */
                visibility: 'all' | 'public_only';
              };
            };
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        429: components['responses']['TooManyRequests'];
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/repositories': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The repositories the token may read (deleted ones left out), their backfill progress and the hourly request budget in force */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description OK */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              /**
               * @description `public_only`: private repositories are left out for this token (a profile page); workspace admins see them on the admin pages.
               * @enum {string}
               */
              visibility: 'all' | 'public_only';
              /** @description The tenant's hourly Bitbucket request budget in force: the limit Bitbucket announces (X-RateLimit-Limit, to access tokens and Forge apps; the smallest of any resource, at most 10,000) or else the configured BITBUCKET_REQUESTS_PER_HOUR. Every ETA is computed from it. */
              requests_per_hour: number;
              /**
               * @description `announced`: Bitbucket's answers of the last hour announced the limit; `configured`: nothing was announced, the configured budget applies.
               * @enum {string}
               */
              requests_per_hour_source: 'configured' | 'announced';
              repositories: components['schemas']['Repository'][];
            };
          };
        };
        401: components['responses']['Unauthorized'];
        403: components['responses']['Forbidden'];
        429: components['responses']['TooManyRequests'];
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/audit': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The tenant's audit log, newest first (admin actions, support reads, deletions) */
    get: {
      parameters: {
        query?: {
          limit?: number;
          /** @description Only entries with a smaller id (the previous page's `next`). */
          before?: number;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description OK */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              entries: components['schemas']['AuditEntry'][];
              /** @description `before` for the next page; null on the last page */
              next: number | null;
            };
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['Forbidden'];
        429: components['responses']['TooManyRequests'];
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/data/delete': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Delete all of the workspace's data in Tally at once (configure page only) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description The workspace slug (the client key when the slug is unknown), typed by the admin */
            confirm: string;
          };
        };
      };
      responses: {
        /** @description Deleted */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['Forbidden'];
        429: components['responses']['TooManyRequests'];
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/support/consent': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The consent to support access in force, if any */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description OK */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              consent: components['schemas']['SupportConsent'] | null;
            };
          };
        };
        401: components['responses']['Unauthorized'];
        403: components['responses']['Forbidden'];
        429: components['responses']['TooManyRequests'];
      };
    };
    put?: never;
    /** Grant support access for some days, with a reason (configure page only) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            days: number;
            reason: string;
          };
        };
      };
      responses: {
        /** @description Granted */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              consent: components['schemas']['SupportConsent'];
            };
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['Forbidden'];
        429: components['responses']['TooManyRequests'];
      };
    };
    /** Revoke support access now (configure page only) */
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description OK */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              /** @description Whether a consent was in force */
              revoked: boolean;
            };
          };
        };
        401: components['responses']['Unauthorized'];
        403: components['responses']['Forbidden'];
        429: components['responses']['TooManyRequests'];
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/stats/contributors': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Every contributor with commits in scope, sorted by commits (no cap) */
    get: {
      parameters: {
        query?: {
          /** @description Repository uuid (braces optional); repeatable. Absent: every repository the token may read (a repository page's token: its repository; a profile page's: the public ones; the admin pages': the whole workspace). One outside the token's scope: 403 `outside_scope`. A repository the tenant does not have matches nothing. */
          repository?: components['parameters']['repository'];
          /** @description Bitbucket project uuid (braces optional); repeatable: the repositories of these projects (each repository's project is in `GET /repositories`). Combined with `repository`, only repositories that match both; always inside the token's scope (a repository page's token still sees only its repository). A project the tenant does not have matches nothing. */
          project?: components['parameters']['project'];
          /** @description A team's id (GET /teams): only its members' contributions (each member key with every identity merged into it); with `contributor`, that person if in the team. For pull requests, those its members authored. An unknown team is a 404 `not_found`. */
          team?: components['parameters']['team'];
          /** @description First local day (inclusive) in the effective time zone. */
          since?: components['parameters']['since'];
          /** @description Local day after the last (exclusive); must be after since. */
          until?: components['parameters']['until'];
          merges?: components['parameters']['merges'];
          bots?: components['parameters']['bots'];
          /** @description Whether path exclusions apply to line counts. */
          exclusions?: components['parameters']['exclusions'];
          /** @description IANA time zone for dates and buckets; default: the workspace's setting (UTC unless set). */
          tz?: components['parameters']['tz'];
          /** @description csv streams the same rows as CSV (emails space-separated). */
          format?: 'json' | 'csv';
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description OK */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              timezone: string;
              /** Format: date */
              since: string | null;
              /** Format: date */
              until: string | null;
              merges: string;
              bots: string;
              exclusions: string;
              contributors: components['schemas']['Contributor'][];
              /** @description True when every repository in scope is `ready` (every commit listed and counted, pull requests read) and the analytics have applied every change: the numbers are final for now. The UI shows “updating…” while false. */
              complete: boolean;
              /** @description Stored commits whose changes the analytics have not applied yet (seconds at most while a worker runs). */
              pending_commits: number;
              /** @description Stored pull requests whose changes the analytics have not applied yet. */
              pending_pull_requests: number;
              /** @description Commits listed whose line counts have not been fetched yet (the backfill's second phase). */
              commits_without_lines: number;
              /** @description Share of the listed commits in scope that have their line counts (three decimals; 1 when there are none). Line counts arrive newest first, the newest 90 days of every repository before older history, so recent graphs are complete first; the UI notes it while below 1. */
              lines_counted_share: number;
              /** @description Estimated seconds until every commit in scope has its line counts, at the request budget in force (GET /repositories `requests_per_hour`); null when none is missing. */
              lines_complete_eta_seconds: number | null;
            };
            'text/csv': string;
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['Forbidden'];
        404: components['responses']['NotFound'];
        429: components['responses']['TooManyRequests'];
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/stats/activity': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Commits, lines added and lines removed per local day, week or month (code frequency is this by week)
     * @description Every period from since to the day before until is present (zeros for quiet ones); without since/until, from the first to the last period with commits.
     */
    get: {
      parameters: {
        query?: {
          /** @description Repository uuid (braces optional); repeatable. Absent: every repository the token may read (a repository page's token: its repository; a profile page's: the public ones; the admin pages': the whole workspace). One outside the token's scope: 403 `outside_scope`. A repository the tenant does not have matches nothing. */
          repository?: components['parameters']['repository'];
          /** @description Bitbucket project uuid (braces optional); repeatable: the repositories of these projects (each repository's project is in `GET /repositories`). Combined with `repository`, only repositories that match both; always inside the token's scope (a repository page's token still sees only its repository). A project the tenant does not have matches nothing. */
          project?: components['parameters']['project'];
          /** @description A team's id (GET /teams): only its members' contributions (each member key with every identity merged into it); with `contributor`, that person if in the team. For pull requests, those its members authored. An unknown team is a 404 `not_found`. */
          team?: components['parameters']['team'];
          /** @description First local day (inclusive) in the effective time zone. */
          since?: components['parameters']['since'];
          /** @description Local day after the last (exclusive); must be after since. */
          until?: components['parameters']['until'];
          merges?: components['parameters']['merges'];
          bots?: components['parameters']['bots'];
          /** @description Whether path exclusions apply to line counts. */
          exclusions?: components['parameters']['exclusions'];
          /** @description IANA time zone for dates and buckets; default: the workspace's setting (UTC unless set). */
          tz?: components['parameters']['tz'];
          interval?: components['parameters']['interval'];
          /** @description A contributor key (`a:<account id>` or `e:<email>`) or a Bitbucket user uuid `{…}`; one with no commits in scope (or unknown) gets an empty answer: 200 with zeros. */
          contributor?: components['parameters']['contributor'];
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description OK */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              timezone: string;
              /** Format: date */
              since: string | null;
              /** Format: date */
              until: string | null;
              merges: string;
              bots: string;
              exclusions: string;
              interval: string;
              series: components['schemas']['Point'][];
              /** @description True when every repository in scope is `ready` (every commit listed and counted, pull requests read) and the analytics have applied every change: the numbers are final for now. The UI shows “updating…” while false. */
              complete: boolean;
              /** @description Stored commits whose changes the analytics have not applied yet (seconds at most while a worker runs). */
              pending_commits: number;
              /** @description Stored pull requests whose changes the analytics have not applied yet. */
              pending_pull_requests: number;
              /** @description Commits listed whose line counts have not been fetched yet (the backfill's second phase). */
              commits_without_lines: number;
              /** @description Share of the listed commits in scope that have their line counts (three decimals; 1 when there are none). Line counts arrive newest first, the newest 90 days of every repository before older history, so recent graphs are complete first; the UI notes it while below 1. */
              lines_counted_share: number;
              /** @description Estimated seconds until every commit in scope has its line counts, at the request budget in force (GET /repositories `requests_per_hour`); null when none is missing. */
              lines_complete_eta_seconds: number | null;
            };
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['Forbidden'];
        404: components['responses']['NotFound'];
        429: components['responses']['TooManyRequests'];
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/stats/punchcard': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Commits by local weekday (0 = Sunday) and hour */
    get: {
      parameters: {
        query?: {
          /** @description Repository uuid (braces optional); repeatable. Absent: every repository the token may read (a repository page's token: its repository; a profile page's: the public ones; the admin pages': the whole workspace). One outside the token's scope: 403 `outside_scope`. A repository the tenant does not have matches nothing. */
          repository?: components['parameters']['repository'];
          /** @description Bitbucket project uuid (braces optional); repeatable: the repositories of these projects (each repository's project is in `GET /repositories`). Combined with `repository`, only repositories that match both; always inside the token's scope (a repository page's token still sees only its repository). A project the tenant does not have matches nothing. */
          project?: components['parameters']['project'];
          /** @description A team's id (GET /teams): only its members' contributions (each member key with every identity merged into it); with `contributor`, that person if in the team. For pull requests, those its members authored. An unknown team is a 404 `not_found`. */
          team?: components['parameters']['team'];
          /** @description First local day (inclusive) in the effective time zone. */
          since?: components['parameters']['since'];
          /** @description Local day after the last (exclusive); must be after since. */
          until?: components['parameters']['until'];
          merges?: components['parameters']['merges'];
          bots?: components['parameters']['bots'];
          /** @description Whether path exclusions apply to line counts. */
          exclusions?: components['parameters']['exclusions'];
          /** @description IANA time zone for dates and buckets; default: the workspace's setting (UTC unless set). */
          tz?: components['parameters']['tz'];
          /** @description A contributor key (`a:<account id>` or `e:<email>`) or a Bitbucket user uuid `{…}`; one with no commits in scope (or unknown) gets an empty answer: 200 with zeros. */
          contributor?: components['parameters']['contributor'];
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description OK */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              timezone: string;
              /** Format: date */
              since: string | null;
              /** Format: date */
              until: string | null;
              merges: string;
              bots: string;
              exclusions: string;
              /** @description Commit times come from Bitbucket in UTC; the author's own offset is unknown. */
              note: string;
              counts: number[][];
              cells: {
                weekday: number;
                hour: number;
                commits: number;
              }[];
              /** @description True when every repository in scope is `ready` (every commit listed and counted, pull requests read) and the analytics have applied every change: the numbers are final for now. The UI shows “updating…” while false. */
              complete: boolean;
              /** @description Stored commits whose changes the analytics have not applied yet (seconds at most while a worker runs). */
              pending_commits: number;
              /** @description Stored pull requests whose changes the analytics have not applied yet. */
              pending_pull_requests: number;
              /** @description Commits listed whose line counts have not been fetched yet (the backfill's second phase). */
              commits_without_lines: number;
              /** @description Share of the listed commits in scope that have their line counts (three decimals; 1 when there are none). Line counts arrive newest first, the newest 90 days of every repository before older history, so recent graphs are complete first; the UI notes it while below 1. */
              lines_counted_share: number;
              /** @description Estimated seconds until every commit in scope has its line counts, at the request budget in force (GET /repositories `requests_per_hour`); null when none is missing. */
              lines_complete_eta_seconds: number | null;
            };
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['Forbidden'];
        404: components['responses']['NotFound'];
        429: components['responses']['TooManyRequests'];
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/stats/calendar': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Daily commit counts (profile tab)
     * @description Defaults to the 365 days ending today in the effective zone; at most 366 days.
     */
    get: {
      parameters: {
        query?: {
          /** @description Repository uuid (braces optional); repeatable. Absent: every repository the token may read (a repository page's token: its repository; a profile page's: the public ones; the admin pages': the whole workspace). One outside the token's scope: 403 `outside_scope`. A repository the tenant does not have matches nothing. */
          repository?: components['parameters']['repository'];
          /** @description Bitbucket project uuid (braces optional); repeatable: the repositories of these projects (each repository's project is in `GET /repositories`). Combined with `repository`, only repositories that match both; always inside the token's scope (a repository page's token still sees only its repository). A project the tenant does not have matches nothing. */
          project?: components['parameters']['project'];
          /** @description A team's id (GET /teams): only its members' contributions (each member key with every identity merged into it); with `contributor`, that person if in the team. For pull requests, those its members authored. An unknown team is a 404 `not_found`. */
          team?: components['parameters']['team'];
          /** @description First local day (inclusive) in the effective time zone. */
          since?: components['parameters']['since'];
          /** @description Local day after the last (exclusive); must be after since. */
          until?: components['parameters']['until'];
          merges?: components['parameters']['merges'];
          bots?: components['parameters']['bots'];
          /** @description Whether path exclusions apply to line counts. */
          exclusions?: components['parameters']['exclusions'];
          /** @description IANA time zone for dates and buckets; default: the workspace's setting (UTC unless set). */
          tz?: components['parameters']['tz'];
          /** @description A contributor key (`a:<account id>` or `e:<email>`) or a Bitbucket user uuid `{…}`; one with no commits in scope (or unknown) gets an empty answer: 200 with zeros. */
          contributor?: components['parameters']['contributor'];
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description OK */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              timezone: string;
              /** Format: date */
              since: string | null;
              /** Format: date */
              until: string | null;
              merges: string;
              bots: string;
              exclusions: string;
              total: number;
              days: {
                /** Format: date */
                date: string;
                commits: number;
              }[];
              /** @description True when every repository in scope is `ready` (every commit listed and counted, pull requests read) and the analytics have applied every change: the numbers are final for now. The UI shows “updating…” while false. */
              complete: boolean;
              /** @description Stored commits whose changes the analytics have not applied yet (seconds at most while a worker runs). */
              pending_commits: number;
              /** @description Stored pull requests whose changes the analytics have not applied yet. */
              pending_pull_requests: number;
              /** @description Commits listed whose line counts have not been fetched yet (the backfill's second phase). */
              commits_without_lines: number;
              /** @description Share of the listed commits in scope that have their line counts (three decimals; 1 when there are none). Line counts arrive newest first, the newest 90 days of every repository before older history, so recent graphs are complete first; the UI notes it while below 1. */
              lines_counted_share: number;
              /** @description Estimated seconds until every commit in scope has its line counts, at the request budget in force (GET /repositories `requests_per_hour`); null when none is missing. */
              lines_complete_eta_seconds: number | null;
            };
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['Forbidden'];
        404: components['responses']['NotFound'];
        429: components['responses']['TooManyRequests'];
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/stats/top': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Leaderboards by person and by repository */
    get: {
      parameters: {
        query?: {
          /** @description Repository uuid (braces optional); repeatable. Absent: every repository the token may read (a repository page's token: its repository; a profile page's: the public ones; the admin pages': the whole workspace). One outside the token's scope: 403 `outside_scope`. A repository the tenant does not have matches nothing. */
          repository?: components['parameters']['repository'];
          /** @description Bitbucket project uuid (braces optional); repeatable: the repositories of these projects (each repository's project is in `GET /repositories`). Combined with `repository`, only repositories that match both; always inside the token's scope (a repository page's token still sees only its repository). A project the tenant does not have matches nothing. */
          project?: components['parameters']['project'];
          /** @description A team's id (GET /teams): only its members' contributions (each member key with every identity merged into it); with `contributor`, that person if in the team. For pull requests, those its members authored. An unknown team is a 404 `not_found`. */
          team?: components['parameters']['team'];
          /** @description First local day (inclusive) in the effective time zone. */
          since?: components['parameters']['since'];
          /** @description Local day after the last (exclusive); must be after since. */
          until?: components['parameters']['until'];
          merges?: components['parameters']['merges'];
          bots?: components['parameters']['bots'];
          /** @description Whether path exclusions apply to line counts. */
          exclusions?: components['parameters']['exclusions'];
          /** @description IANA time zone for dates and buckets; default: the workspace's setting (UTC unless set). */
          tz?: components['parameters']['tz'];
          /** @description lines = lines added + lines removed. */
          by?: 'commits' | 'lines';
          /** @description The last 7, 30, 91 or 365 days through today (local), or all time; not together with since/until. */
          period?: 'week' | 'month' | 'quarter' | 'year' | 'all';
          limit?: number;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description OK */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              timezone: string;
              /** Format: date */
              since: string | null;
              /** Format: date */
              until: string | null;
              merges: string;
              bots: string;
              exclusions: string;
              by: string;
              period: string | null;
              people: {
                key: string;
                account_id: string | null;
                display_name: string;
                commits: number;
                lines_added: number;
                lines_removed: number;
              }[];
              repositories: components['schemas']['RepositoryTotals'][];
              /** @description True when every repository in scope is `ready` (every commit listed and counted, pull requests read) and the analytics have applied every change: the numbers are final for now. The UI shows “updating…” while false. */
              complete: boolean;
              /** @description Stored commits whose changes the analytics have not applied yet (seconds at most while a worker runs). */
              pending_commits: number;
              /** @description Stored pull requests whose changes the analytics have not applied yet. */
              pending_pull_requests: number;
              /** @description Commits listed whose line counts have not been fetched yet (the backfill's second phase). */
              commits_without_lines: number;
              /** @description Share of the listed commits in scope that have their line counts (three decimals; 1 when there are none). Line counts arrive newest first, the newest 90 days of every repository before older history, so recent graphs are complete first; the UI notes it while below 1. */
              lines_counted_share: number;
              /** @description Estimated seconds until every commit in scope has its line counts, at the request budget in force (GET /repositories `requests_per_hour`); null when none is missing. */
              lines_complete_eta_seconds: number | null;
            };
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['Forbidden'];
        404: components['responses']['NotFound'];
        429: components['responses']['TooManyRequests'];
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/pull-requests/stats': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Pull requests created, merged and declined per period; time to merge; cycle phases; reviewers
     * @description merges and exclusions do not apply to pull requests; bots=exclude drops pull requests and reviewers whose name matches a bot pattern. Durations are in hours. Percentiles are exact (percentile_cont) when at most 5,000 merged pull requests are in scope or repositories are filtered; above that, workspace-wide percentiles are interpolated from log-spaced bins and are within 2.2% of the exact value. Counts and the histogram are always exact. A profile page's token reads its own person's pull requests (`author=` them) or reviews (`reviewer=` them), in public repositories only; without either, 403 `outside_scope`.
     */
    get: {
      parameters: {
        query?: {
          /** @description Repository uuid (braces optional); repeatable. Absent: every repository the token may read (a repository page's token: its repository; a profile page's: the public ones; the admin pages': the whole workspace). One outside the token's scope: 403 `outside_scope`. A repository the tenant does not have matches nothing. */
          repository?: components['parameters']['repository'];
          /** @description Bitbucket project uuid (braces optional); repeatable: the repositories of these projects (each repository's project is in `GET /repositories`). Combined with `repository`, only repositories that match both; always inside the token's scope (a repository page's token still sees only its repository). A project the tenant does not have matches nothing. */
          project?: components['parameters']['project'];
          /** @description A team's id (GET /teams): only its members' contributions (each member key with every identity merged into it); with `contributor`, that person if in the team. For pull requests, those its members authored. An unknown team is a 404 `not_found`. */
          team?: components['parameters']['team'];
          /** @description Pull requests this person authored: a contributor key (`a:<account id>`, `e:<email>`) or a Bitbucket user uuid `{…}`, with every identity merged into it. Nobody known: an empty answer. A profile page's token must name its own person here or in `reviewer` (else 403 `outside_scope`). */
          author?: components['parameters']['author'];
          /** @description Pull requests this person reviewed, and only their reviews in `reviewers`: a contributor key or a Bitbucket user uuid (someone who reviews without committing is found by account id or uuid). */
          reviewer?: components['parameters']['reviewer'];
          /** @description First local day (inclusive) in the effective time zone. */
          since?: components['parameters']['since'];
          /** @description Local day after the last (exclusive); must be after since. */
          until?: components['parameters']['until'];
          merges?: components['parameters']['merges'];
          bots?: components['parameters']['bots'];
          /** @description Whether path exclusions apply to line counts. */
          exclusions?: components['parameters']['exclusions'];
          /** @description IANA time zone for dates and buckets; default: the workspace's setting (UTC unless set). */
          tz?: components['parameters']['tz'];
          interval?: components['parameters']['interval'];
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description OK */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              timezone: string;
              /** Format: date */
              since: string | null;
              /** Format: date */
              until: string | null;
              merges: string;
              bots: string;
              exclusions: string;
              interval: string;
              series: {
                /** Format: date */
                period: string;
                created: number;
                merged: number;
                declined: number;
              }[];
              totals: {
                created: number;
                merged: number;
                declined: number;
                open: number;
              };
              time_to_merge: components['schemas']['Percentiles'] & {
                histogram: {
                  label: string;
                  max_hours: number | null;
                  count: number;
                }[];
              };
              cycle_time: {
                time_to_first_review: components['schemas']['Percentiles'];
                review_to_merge: components['schemas']['Percentiles'];
              };
              reviewers: {
                account_id: string | null;
                display_name: string | null;
                reviews: number;
                approvals: number;
                changes_requested: number;
              }[];
              /** @description True when every repository in scope is `ready` (every commit listed and counted, pull requests read) and the analytics have applied every change: the numbers are final for now. The UI shows “updating…” while false. */
              complete: boolean;
              /** @description Stored commits whose changes the analytics have not applied yet (seconds at most while a worker runs). */
              pending_commits: number;
              /** @description Stored pull requests whose changes the analytics have not applied yet. */
              pending_pull_requests: number;
              /** @description Commits listed whose line counts have not been fetched yet (the backfill's second phase). */
              commits_without_lines: number;
              /** @description Share of the listed commits in scope that have their line counts (three decimals; 1 when there are none). Line counts arrive newest first, the newest 90 days of every repository before older history, so recent graphs are complete first; the UI notes it while below 1. */
              lines_counted_share: number;
              /** @description Estimated seconds until every commit in scope has its line counts, at the request budget in force (GET /repositories `requests_per_hour`); null when none is missing. */
              lines_complete_eta_seconds: number | null;
            };
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['Forbidden'];
        404: components['responses']['NotFound'];
        429: components['responses']['TooManyRequests'];
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/export/commits': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Every counted commit in scope, streamed (oldest first) */
    get: {
      parameters: {
        query?: {
          /** @description Repository uuid (braces optional); repeatable. Absent: every repository the token may read (a repository page's token: its repository; a profile page's: the public ones; the admin pages': the whole workspace). One outside the token's scope: 403 `outside_scope`. A repository the tenant does not have matches nothing. */
          repository?: components['parameters']['repository'];
          /** @description Bitbucket project uuid (braces optional); repeatable: the repositories of these projects (each repository's project is in `GET /repositories`). Combined with `repository`, only repositories that match both; always inside the token's scope (a repository page's token still sees only its repository). A project the tenant does not have matches nothing. */
          project?: components['parameters']['project'];
          /** @description A team's id (GET /teams): only its members' contributions (each member key with every identity merged into it); with `contributor`, that person if in the team. For pull requests, those its members authored. An unknown team is a 404 `not_found`. */
          team?: components['parameters']['team'];
          /** @description First local day (inclusive) in the effective time zone. */
          since?: components['parameters']['since'];
          /** @description Local day after the last (exclusive); must be after since. */
          until?: components['parameters']['until'];
          merges?: components['parameters']['merges'];
          bots?: components['parameters']['bots'];
          /** @description Whether path exclusions apply to line counts. */
          exclusions?: components['parameters']['exclusions'];
          /** @description IANA time zone for dates and buckets; default: the workspace's setting (UTC unless set). */
          tz?: components['parameters']['tz'];
          format?: components['parameters']['exportFormat'];
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Rows: date, repository, repository_uuid, hash, author, author_key, author_email, merge, lines_added, lines_removed */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'text/csv': string;
            'application/x-ndjson': components['schemas']['CommitRow'];
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['Forbidden'];
        404: components['responses']['NotFound'];
        429: components['responses']['TooManyRequests'];
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/export/pull-requests': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Every pull request created in scope, streamed (oldest first) */
    get: {
      parameters: {
        query?: {
          /** @description Repository uuid (braces optional); repeatable. Absent: every repository the token may read (a repository page's token: its repository; a profile page's: the public ones; the admin pages': the whole workspace). One outside the token's scope: 403 `outside_scope`. A repository the tenant does not have matches nothing. */
          repository?: components['parameters']['repository'];
          /** @description Bitbucket project uuid (braces optional); repeatable: the repositories of these projects (each repository's project is in `GET /repositories`). Combined with `repository`, only repositories that match both; always inside the token's scope (a repository page's token still sees only its repository). A project the tenant does not have matches nothing. */
          project?: components['parameters']['project'];
          /** @description A team's id (GET /teams): only its members' contributions (each member key with every identity merged into it); with `contributor`, that person if in the team. For pull requests, those its members authored. An unknown team is a 404 `not_found`. */
          team?: components['parameters']['team'];
          /** @description Pull requests this person authored: a contributor key (`a:<account id>`, `e:<email>`) or a Bitbucket user uuid `{…}`, with every identity merged into it. Nobody known: an empty answer. A profile page's token must name its own person here or in `reviewer` (else 403 `outside_scope`). */
          author?: components['parameters']['author'];
          /** @description Pull requests this person reviewed, and only their reviews in `reviewers`: a contributor key or a Bitbucket user uuid (someone who reviews without committing is found by account id or uuid). */
          reviewer?: components['parameters']['reviewer'];
          /** @description First local day (inclusive) in the effective time zone. */
          since?: components['parameters']['since'];
          /** @description Local day after the last (exclusive); must be after since. */
          until?: components['parameters']['until'];
          merges?: components['parameters']['merges'];
          bots?: components['parameters']['bots'];
          /** @description Whether path exclusions apply to line counts. */
          exclusions?: components['parameters']['exclusions'];
          /** @description IANA time zone for dates and buckets; default: the workspace's setting (UTC unless set). */
          tz?: components['parameters']['tz'];
          format?: components['parameters']['exportFormat'];
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Rows: created_on, repository, repository_uuid, id, title, author, state, source_branch, destination_branch, merged_on, closed_on, comment_count, task_count, hours_to_merge */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'text/csv': string;
            'application/x-ndjson': Record<string, never>;
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['Forbidden'];
        404: components['responses']['NotFound'];
        429: components['responses']['TooManyRequests'];
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/commits': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * The commits behind a number: counted commits in scope, newest first, keyset-paged
     * @description The same filters as the stats endpoints (and the same viewer scope: a repository page's token lists its repository's commits only, a profile page's token that person's commits in public repositories only), plus `contributor` and one graph bucket (`day`, `week` or `month`). Every commit the graphs count for those filters, and only those. A bucket outside since/until is an empty page.
     */
    get: {
      parameters: {
        query?: {
          /** @description Repository uuid (braces optional); repeatable. Absent: every repository the token may read (a repository page's token: its repository; a profile page's: the public ones; the admin pages': the whole workspace). One outside the token's scope: 403 `outside_scope`. A repository the tenant does not have matches nothing. */
          repository?: components['parameters']['repository'];
          /** @description Bitbucket project uuid (braces optional); repeatable: the repositories of these projects (each repository's project is in `GET /repositories`). Combined with `repository`, only repositories that match both; always inside the token's scope (a repository page's token still sees only its repository). A project the tenant does not have matches nothing. */
          project?: components['parameters']['project'];
          /** @description A team's id (GET /teams): only its members' contributions (each member key with every identity merged into it); with `contributor`, that person if in the team. For pull requests, those its members authored. An unknown team is a 404 `not_found`. */
          team?: components['parameters']['team'];
          /** @description First local day (inclusive) in the effective time zone. */
          since?: components['parameters']['since'];
          /** @description Local day after the last (exclusive); must be after since. */
          until?: components['parameters']['until'];
          merges?: components['parameters']['merges'];
          bots?: components['parameters']['bots'];
          /** @description Whether path exclusions apply to line counts. */
          exclusions?: components['parameters']['exclusions'];
          /** @description IANA time zone for dates and buckets; default: the workspace's setting (UTC unless set). */
          tz?: components['parameters']['tz'];
          /** @description A contributor key (`a:<account id>` or `e:<email>`) or a Bitbucket user uuid `{…}`; one with no commits in scope (or unknown) gets an empty answer: 200 with zeros. */
          contributor?: components['parameters']['contributor'];
          /** @description One local day (the effective time zone): a calendar day's or a daily bar's commits. Applies together with since/until (both must hold). At most one of day, week, month. */
          day?: string;
          /** @description The Monday a local week starts on (as the weekly series starts them): a weekly bar's commits. */
          week?: string;
          /** @description A local month YYYY-MM: a monthly bar's commits. */
          month?: string;
          /** @description The `next_cursor` of the previous page (opaque; anything else is a 400). */
          cursor?: string;
          /** @description Commits per page. */
          limit?: number;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description OK */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              timezone: string;
              /** Format: date */
              since: string | null;
              /** Format: date */
              until: string | null;
              merges: string;
              bots: string;
              exclusions: string;
              /** @description True when every repository in scope is `ready` (every commit listed and counted, pull requests read) and the analytics have applied every change: the numbers are final for now. The UI shows “updating…” while false. */
              complete: boolean;
              /** @description Stored commits whose changes the analytics have not applied yet (seconds at most while a worker runs). */
              pending_commits: number;
              /** @description Stored pull requests whose changes the analytics have not applied yet. */
              pending_pull_requests: number;
              /** @description Commits listed whose line counts have not been fetched yet (the backfill's second phase). */
              commits_without_lines: number;
              /** @description Share of the listed commits in scope that have their line counts (three decimals; 1 when there are none). Line counts arrive newest first, the newest 90 days of every repository before older history, so recent graphs are complete first; the UI notes it while below 1. */
              lines_counted_share: number;
              /** @description Estimated seconds until every commit in scope has its line counts, at the request budget in force (GET /repositories `requests_per_hour`); null when none is missing. */
              lines_complete_eta_seconds: number | null;
              /** @description The workspace's Jira site (settings), where issue keys in messages (ABC-123) link to: `<jira_site_url>/browse/ABC-123`; null: no links. */
              jira_site_url: string | null;
              commits: components['schemas']['CommitListItem'][];
              /** @description Pass as `cursor` for the next (older) page; null on the last page. */
              next_cursor: string | null;
            };
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['Forbidden'];
        429: components['responses']['TooManyRequests'];
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/settings': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Analytics settings (any page may read them) */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description OK */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Settings'] & components['schemas']['RebuildPending'];
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['Forbidden'];
        429: components['responses']['TooManyRequests'];
      };
    };
    /**
     * Change analytics settings (configure page only)
     * @description A change of path exclusions or bot patterns is saved and answered at once (202); a rebuild_rollups job then recomputes facts and rollups from stored data, no Bitbucket call (changes made while it waits coalesce into one rebuild). A time-zone change needs no rebuild (200). Turning line_counts_from_patches on or off needs no rebuild either (200): it changes where the next line counts come from, not what they are.
     */
    put: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description IANA name; the default zone for bucketing. */
            timezone?: string;
            /** @description gitignore-style lines, after the defaults. */
            path_exclusions?: string[];
            default_path_exclusions?: boolean;
            /** @description Case-insensitive substrings of author email or name. */
            bot_patterns?: string[];
            default_bot_patterns?: boolean;
            /** @description https://<host> with nothing after the host (stored as its origin); null removes it. Only links are built from it. */
            jira_site_url?: string | null;
            /** @description The opt-in to counting lines from patch series (see Settings); admins only, like every change here. */
            line_counts_from_patches?: boolean;
          };
        };
      };
      responses: {
        /** @description Saved; nothing to rebuild */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Settings'] & components['schemas']['RebuildPending'];
          };
        };
        /** @description Saved; a rebuild is queued */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Settings'] & components['schemas']['RebuildPending'];
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['Forbidden'];
        429: components['responses']['TooManyRequests'];
      };
    };
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/settings/repositories/{uuid}': {
    parameters: {
      query?: never;
      header?: never;
      path: {
        /** @description Repository uuid, with or without braces. */
        uuid: string;
      };
      cookie?: never;
    };
    /** A repository's own path exclusions (any page may read them) */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          /** @description Repository uuid, with or without braces. */
          uuid: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description OK */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['RepositorySettings'];
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['Forbidden'];
        404: components['responses']['NotFound'];
        429: components['responses']['TooManyRequests'];
      };
    };
    /**
     * Set a repository's path exclusions, applied after the workspace's (`!pattern` re-includes); configure page only
     * @description Saved and answered at once (202); a rebuild_rollups job then recomputes that repository's facts and rollups. Unchanged exclusions answer 200.
     */
    put: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          /** @description Repository uuid, with or without braces. */
          uuid: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            path_exclusions: string[];
          };
        };
      };
      responses: {
        /** @description Saved; nothing to rebuild */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['RepositorySettings'] &
              components['schemas']['RebuildPending'];
          };
        };
        /** @description Saved; a rebuild is queued */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['RepositorySettings'] &
              components['schemas']['RebuildPending'];
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['Forbidden'];
        404: components['responses']['NotFound'];
        429: components['responses']['TooManyRequests'];
      };
    };
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/identities': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Every identity, merged or not, with its own counted commits */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description OK */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              identities: (components['schemas']['Identity'] & {
                commits: number;
              })[];
            };
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['Forbidden'];
        429: components['responses']['TooManyRequests'];
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/identities/merge': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Merge identities (account ↔ emails, email ↔ email): history is re-credited at once (configure page only) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description Key of the identity that stays. */
            into: string;
            from: string[];
          };
        };
      };
      responses: {
        /** @description OK */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Identity'];
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['Forbidden'];
        404: components['responses']['NotFound'];
        429: components['responses']['TooManyRequests'];
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/identities/merge/{key}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /** Take an identity back out of the one it was merged into (configure page only) */
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          key: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description OK */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Identity'];
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['Forbidden'];
        404: components['responses']['NotFound'];
        429: components['responses']['TooManyRequests'];
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/tokens': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Live API tokens, without their secrets (admin pages only) */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description OK */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              tokens: components['schemas']['ApiToken'][];
            };
          };
        };
        401: components['responses']['Unauthorized'];
        403: components['responses']['Forbidden'];
        429: components['responses']['TooManyRequests'];
      };
    };
    put?: never;
    /** Create a read-only API token (configure page only); its secret is in this answer only */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            name: string;
          };
        };
      };
      responses: {
        /** @description Created */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['ApiToken'] & {
              /** @description The secret, shown once: send it as `Authorization: Bearer <token>` */
              token: string;
            };
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['Forbidden'];
        429: components['responses']['TooManyRequests'];
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/tokens/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /** Revoke an API token now (configure page only) */
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: number;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Revoked */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['Forbidden'];
        404: components['responses']['NotFound'];
        429: components['responses']['TooManyRequests'];
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/teams': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Teams of contributors with their member keys (admin pages only) */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description OK */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              teams: components['schemas']['Team'][];
            };
          };
        };
        401: components['responses']['Unauthorized'];
        403: components['responses']['Forbidden'];
        429: components['responses']['TooManyRequests'];
      };
    };
    put?: never;
    /** Create a team (configure page only); at most 100 per workspace, 200 members each */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description No control characters; unique in the workspace, case ignored */
            name: string;
            /** @description Contributor keys as GET /identities lists them (`a:<account id>`, `e:<email>`); a key nobody has committed as yet is kept and counts once they do */
            members: string[];
          };
        };
      };
      responses: {
        /** @description Created */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Team'];
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['Forbidden'];
        /** @description Another team has this name, or the workspace has 100 teams already */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
        429: components['responses']['TooManyRequests'];
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/teams/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    /** Rename a team and replace its members (configure page only) */
    put: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: number;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description No control characters; unique in the workspace, case ignored */
            name: string;
            /** @description Contributor keys as GET /identities lists them (`a:<account id>`, `e:<email>`); a key nobody has committed as yet is kept and counts once they do */
            members: string[];
          };
        };
      };
      responses: {
        /** @description OK */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Team'];
          };
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['Forbidden'];
        404: components['responses']['NotFound'];
        /** @description Another team has this name, or the workspace has 100 teams already */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': components['schemas']['Error'];
          };
        };
        429: components['responses']['TooManyRequests'];
      };
    };
    post?: never;
    /** Delete a team (configure page only) */
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: number;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Deleted */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        400: components['responses']['BadRequest'];
        401: components['responses']['Unauthorized'];
        403: components['responses']['Forbidden'];
        404: components['responses']['NotFound'];
        429: components['responses']['TooManyRequests'];
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
}
export type webhooks = Record<string, never>;
export interface components {
  schemas: {
    /** @description Every error answer. Clients branch on `error.code`; `error.message` is a short reason for people. */
    Error: {
      error: {
        code: components['schemas']['ErrorCode'];
        message: string;
      };
    };
    Contributor: {
      /** @description a:<account id> or e:<normalized email> */
      key: string;
      account_id: string | null;
      display_name: string;
      emails: string[];
      commits: number;
      lines_added: number;
      lines_removed: number;
      /** Format: date-time */
      first_commit: string;
      /** Format: date-time */
      last_commit: string;
    };
    Point: {
      /**
       * Format: date
       * @description First local day of the period (weeks start on Monday).
       */
      period: string;
      commits: number;
      lines_added: number;
      lines_removed: number;
      /** @description Lines in the code at the end of the period: lines added minus removed by every commit in scope up to then, counted from the first commit even when `since` is later (a running total; exclusions, merges and bots apply as to lines_added). */
      lines_total: number;
    };
    Percentiles: {
      count: number;
      p50: number | null;
      p75: number | null;
      p90: number | null;
      p95: number | null;
    };
    RepositoryTotals: {
      uuid: string;
      full_name: string;
      commits: number;
      lines_added: number;
      lines_removed: number;
    };
    CommitRow: {
      /** Format: date-time */
      date: string;
      repository: string;
      repository_uuid: string;
      hash: string;
      author: string;
      author_key: string;
      author_email: string | null;
      merge: boolean;
      lines_added: number;
      lines_removed: number;
    };
    Identity: {
      key: string;
      account_id: string | null;
      display_name: string;
      emails: string[];
      /** @description Key of the identity this one is merged into. */
      merged_into: string | null;
    };
    Settings: {
      timezone: string;
      path_exclusions: string[];
      default_path_exclusions: boolean;
      bot_patterns: string[];
      default_bot_patterns: boolean;
      /** @description Experimental, off by default: phase 2 of the backfill counts lines from patch series (diff text, which Tally counts in a stream and never stores, logs or reports) instead of one diffstat per commit, falling back to diffstats for merges, binary files and any commit a series omits or cuts off. Counts are identical either way; turning it on applies at once to every commit still without line counts, turning it off returns to diffstats. */
      line_counts_from_patches: boolean;
      defaults: {
        path_exclusions: string[];
        bot_patterns: string[];
      };
      /** @description The workspace's Jira site (https://<host>); issue keys in commit messages link there. null: none. */
      jira_site_url: string | null;
    };
    RepositorySettings: {
      repository: string;
      path_exclusions: string[];
    };
    RebuildPending: {
      /** @description A rebuild of facts and rollups for a settings change is waiting or running: until it has run, graphs show the previous settings' figures. */
      rebuild_pending: boolean;
    };
    Repository: {
      /** @description Bitbucket repository uuid, braced */
      uuid: string;
      full_name: string;
      /** @description The repository's Bitbucket project; null until Tally has read it (the next listing, or a repo:updated webhook) or when the workspace has none */
      project: components['schemas']['Project'] | null;
      /**
       * @description Backfill step: listing commits, fetching line counts (until the pull requests are read as well), ready (every commit with its line counts and the pull requests read), or failed
       * @enum {string}
       */
      state: 'listing' | 'diffstats' | 'ready' | 'failed';
      commits_known: number;
      commits_with_lines: number;
      /** @description Bitbucket API requests spent on this repository */
      requests_used: number;
      /** @description Estimated seconds until every commit has its line counts, from the requests still needed (commits without line counts, at least one page while listing) at the backfill's share of `requests_per_hour`, the tenant's repositories taking turns; 0 when only the pull-request pass or the analytics are left; null when done (ready) or failed */
      eta_seconds: number | null;
    };
    AuditEntry: {
      id: number;
      /** Format: date-time */
      at: string;
      /** @description Who acted: `user:<account id>` for people, `token:<id>` for an API token, `bitbucket` for lifecycle events, `system:…` for Tally itself */
      actor: string;
      /** @description e.g. settings.updated, identities.merged, support.consent_granted, data.deleted, api_token.created, api_token.revoked, api_token.used (one entry per token per minute of use; `details.requests` counts that minute's requests) */
      action: string;
      details: Record<string, never>;
    };
    SupportConsent: {
      id: number;
      grantedBy: string;
      reason: string;
      /** Format: date-time */
      grantedAt: string;
      /** Format: date-time */
      expiresAt: string;
      /** Format: date-time */
      revokedAt: string | null;
    };
    /**
     * @description - `invalid_request` (400): A parameter, header or body field is missing or invalid.
     *     - `invalid_json` (400): The body is not valid JSON.
     *     - `invalid_text` (400): A value holds bytes that cannot be stored (NUL or other control characters, bad encoding).
     *     - `range_too_large` (400): The requested range, series or answer is larger than allowed.
     *     - `unauthenticated` (401): No token, or the token is malformed, forged or not accepted.
     *     - `token_expired` (401): The token has expired; reload the page for a new one.
     *     - `not_installed` (401): Tally is not (or no longer, or not yet) installed for this client.
     *     - `admin_only` (403): Only workspace admins, on the configure page, may do this.
     *     - `outside_scope` (403): The request reaches beyond what the token's viewer may see (another repository, an admin page).
     *     - `not_found` (404): No such resource (or not visible to this viewer).
     *     - `conflict` (409): The request conflicts with the current state.
     *     - `body_too_large` (413): The body is larger than allowed.
     *     - `unsupported_media_type` (415): The body encoding or content type is not supported.
     *     - `rate_limited` (429): Too many requests; retry after the time in Retry-After.
     *     - `internal_error` (500): Tally failed; the error was logged and reported.
     *     - `query_timeout` (503): The query took longer than allowed and was cancelled; narrow the range or filters, or retry.
     *     - `intake_full` (503): Webhook intake is full for now; retry after the time in Retry-After (Bitbucket retries).
     * @enum {string}
     */
    ErrorCode:
      | 'invalid_request'
      | 'invalid_json'
      | 'invalid_text'
      | 'range_too_large'
      | 'unauthenticated'
      | 'token_expired'
      | 'not_installed'
      | 'admin_only'
      | 'outside_scope'
      | 'not_found'
      | 'conflict'
      | 'body_too_large'
      | 'unsupported_media_type'
      | 'rate_limited'
      | 'internal_error'
      | 'query_timeout'
      | 'intake_full';
    ApiToken: {
      id: number;
      name: string;
      /** @description `user:<account id>` of the admin who created it */
      created_by: string;
      /** Format: date-time */
      created_at: string;
      /** Format: date-time */
      last_used_at: string | null;
    };
    Project: {
      /** @description Bitbucket project uuid, braced */
      uuid: string;
      key: string;
      name: string;
    };
    Team: {
      id: number;
      name: string;
      /** @description Contributor keys (`a:<account id>`, `e:<email>`), sorted */
      members: string[];
      /** Format: date-time */
      created_at: string;
      /** Format: date-time */
      updated_at: string;
    };
    CommitListItem: {
      hash: string;
      /**
       * Format: date-time
       * @description Author date, UTC
       */
      date: string;
      /** @description Contributor key (after identity merges) */
      author_key: string;
      author_name: string;
      repository: {
        uuid: string;
        full_name: string;
      };
      /** @description The message's first line, at most 200 characters */
      summary: string;
      merge: boolean;
      lines_added: number;
      lines_removed: number;
      /**
       * Format: uri
       * @description The commit on Bitbucket: <bitbucket>/<workspace>/<repository>/commits/<hash>
       */
      link: string;
    };
  };
  responses: {
    /** @description A parameter or body is invalid */
    BadRequest: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /** @description Missing or invalid session token */
    Unauthorized: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /** @description No such contributor, repository or merge */
    NotFound: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /** @description Outside the session token's scope: `outside_scope` (another repository than the repository page's, an admin page's data from another page, pull requests from a person's page) or `admin_only` (a change from a page other than configure) */
    Forbidden: {
      headers: {
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
    /** @description Too many requests with this API token this minute; retry after `Retry-After` seconds. */
    TooManyRequests: {
      headers: {
        /** @description Seconds until the next minute's window */
        'Retry-After'?: number;
        [name: string]: unknown;
      };
      content: {
        'application/json': components['schemas']['Error'];
      };
    };
  };
  parameters: {
    /** @description Repository uuid (braces optional); repeatable. Absent: every repository the token may read (a repository page's token: its repository; a profile page's: the public ones; the admin pages': the whole workspace). One outside the token's scope: 403 `outside_scope`. A repository the tenant does not have matches nothing. */
    repository: string[];
    /** @description Bitbucket project uuid (braces optional); repeatable: the repositories of these projects (each repository's project is in `GET /repositories`). Combined with `repository`, only repositories that match both; always inside the token's scope (a repository page's token still sees only its repository). A project the tenant does not have matches nothing. */
    project: string[];
    /** @description First local day (inclusive) in the effective time zone. */
    since: string;
    /** @description Local day after the last (exclusive); must be after since. */
    until: string;
    merges: 'exclude' | 'include' | 'only';
    bots: 'exclude' | 'include';
    /** @description Whether path exclusions apply to line counts. */
    exclusions: 'apply' | 'ignore';
    /** @description IANA time zone for dates and buckets; default: the workspace's setting (UTC unless set). */
    tz: string;
    interval: 'day' | 'week' | 'month';
    /** @description A contributor key (`a:<account id>` or `e:<email>`) or a Bitbucket user uuid `{…}`; one with no commits in scope (or unknown) gets an empty answer: 200 with zeros. */
    contributor: string;
    exportFormat: 'csv' | 'jsonl';
    /** @description A team's id (GET /teams): only its members' contributions (each member key with every identity merged into it); with `contributor`, that person if in the team. For pull requests, those its members authored. An unknown team is a 404 `not_found`. */
    team: number;
    /** @description Pull requests this person authored: a contributor key (`a:<account id>`, `e:<email>`) or a Bitbucket user uuid `{…}`, with every identity merged into it. Nobody known: an empty answer. A profile page's token must name its own person here or in `reviewer` (else 403 `outside_scope`). */
    author: string;
    /** @description Pull requests this person reviewed, and only their reviews in `reviewers`: a contributor key or a Bitbucket user uuid (someone who reviews without committing is found by account id or uuid). */
    reviewer: string;
  };
  requestBodies: never;
  headers: never;
  pathItems: never;
}
export type $defs = Record<string, never>;
export type operations = Record<string, never>;
