/**
 * Which columns hold personal data, for erasure (personal-data-store.ts). Every text, json and text[] column of
 * every tenant table, and of the `tenants` registry, is listed here as personal or structural, with why;
 * test/trust/erasure-columns.test.ts fails when a column is added without being classified here, or when a
 * listed column is gone. Erasure rewrites personal columns only: keys, identifiers of things, paths, refs,
 * settings and constrained values are structural and never change, whatever a person is called.
 *
 * How a personal column is rewritten:
 * - `value`: the whole value is one person's identifier or name (an author's name, email, account id, uuid, a
 *   display name, an actor `user:<account id>`). Emails, account ids and uuids are replaced wherever they occur;
 *   a name only when it is the whole value, so another person called "Main Street" keeps their name.
 * - `text`: free text that can quote a person (commit messages, titles, reasons). Emails, account ids and uuids
 *   are replaced wherever they occur, names wherever they stand as a whole word.
 * - `json`: a document. Keys never change. Emails, account ids and uuids are replaced in every string value;
 *   names as whole words only in the values of `nameKeys` (in a push payload the branch `name` stays `main`).
 */

export type PersonalColumn =
  | { personal: 'value' | 'text'; why: string }
  | { personal: 'json'; nameKeys: readonly string[]; why: string };
export type ColumnClass = PersonalColumn | { personal: false; why: string };

/** Bitbucket's names for a person and for text people write, in webhook and install payloads. */
export const PAYLOAD_NAME_KEYS: readonly string[] = [
  'display_name',
  'nickname',
  'username',
  'raw',
  'html',
  'message',
  'title',
  'description',
];

const structural = (why: string): ColumnClass => ({ personal: false, why });
const value = (why: string): ColumnClass => ({ personal: 'value', why });
const text = (why: string): ColumnClass => ({ personal: 'text', why });

export const ERASURE_COLUMNS: Record<string, Record<string, ColumnClass>> = {
  analytics_changes: {
    subject: structural('kind of change, check-constrained'),
    key: structural('commit hash or pull request id'),
  },
  api_rate_limits: { resource: structural('Bitbucket rate-limit resource name, validated') },
  api_request_grants: { priority: structural('request budget class') },
  api_tokens: {
    name: text('the name an admin gave a token (free text)'),
    created_by: value('`user:<account id>` of the admin who created it'),
  },
  audit_log: {
    actor: value('`user:<account id>` of the admin who acted'),
    action: structural('event name'),
    details: {
      personal: 'json',
      nameKeys: ['reason'],
      why: 'contributor keys `a:<account id>` / `e:<email>`, consent reasons; settings snapshots stay as they were',
    },
  },
  branches: {
    kind: structural('branch or tag, check-constrained'),
    name: structural('ref name'),
    head: structural('commit hash'),
  },
  commit_facts: { hash: structural('commit hash') },
  commit_files: {
    hash: structural('commit hash'),
    path: structural('file path (exclusions match it)'),
    old_path: structural('file path before a rename'),
    status: structural('added/removed/modified/renamed, check-constrained'),
  },
  commits: {
    hash: structural('commit hash'),
    author_raw: text('`Name <email>` as git wrote it; rebuilt from the erased parts'),
    author_name: value('git author name'),
    author_email: value('git author email'),
    author_account_id: value('Bitbucket account id'),
    author_uuid: value('Bitbucket user uuid'),
    parents: structural('commit hashes'),
    message: text('free text: sign-offs, co-authors, thanks'),
  },
  contributor_emails: {
    email: value('an identity’s email'),
    source: structural('commit or admin, check-constrained'),
  },
  contributors: {
    account_id: value('Bitbucket account id'),
    user_uuid: value('Bitbucket user uuid'),
    display_name: value('the person’s name'),
    identity_email: value('the email an identity without an account is keyed by'),
  },
  maintenance_failures: {
    task: structural('task name (primary key)'),
    error: structural('HTTP status or SQL state, cut short; never a payload'),
  },
  personal_data_accounts: { account_id: value('account id reported to Atlassian (the row is deleted)') },
  projects: { uuid: structural('Bitbucket project uuid (lower-cased), numbered for project rollups') },
  pull_request_participants: {
    user_uuid: value('Bitbucket user uuid'),
    account_id: value('Bitbucket account id'),
    display_name: value('the person’s name'),
    role: structural('participant or reviewer, check-constrained'),
    state: structural('approval state'),
  },
  pull_request_facts: {
    author_account_id: value('the pull request author’s Bitbucket account id'),
    author_uuid: value('the pull request author’s Bitbucket user uuid'),
    author_uuid_lower: structural(
      'generated from author_uuid (lower case): follows its erasure, cannot be written',
    ),
  },
  pull_request_review_facts: {
    user_uuid: value('reviewer’s Bitbucket user uuid'),
    user_uuid_lower: structural(
      'generated from user_uuid (lower case): follows its erasure, cannot be written',
    ),
    author_account_id: value('the pull request author’s Bitbucket account id'),
    author_uuid: value('the pull request author’s Bitbucket user uuid'),
    author_uuid_lower: structural(
      'generated from author_uuid (lower case): follows its erasure, cannot be written',
    ),
  },
  pull_request_reviewer_rollups_daily: { user_uuid: value('reviewer’s Bitbucket user uuid') },
  pull_request_reviewer_rollups_monthly: { user_uuid: value('reviewer’s Bitbucket user uuid') },
  pull_request_reviewer_rollups_yearly: { user_uuid: value('reviewer’s Bitbucket user uuid') },
  repository_pull_request_reviewer_rollups_daily: { user_uuid: value('reviewer’s Bitbucket user uuid') },
  repository_pull_request_reviewer_rollups_monthly: { user_uuid: value('reviewer’s Bitbucket user uuid') },
  repository_pull_request_reviewer_rollups_yearly: { user_uuid: value('reviewer’s Bitbucket user uuid') },
  project_pull_request_reviewer_rollups_daily: { user_uuid: value('reviewer’s Bitbucket user uuid') },
  project_pull_request_reviewer_rollups_monthly: { user_uuid: value('reviewer’s Bitbucket user uuid') },
  project_pull_request_reviewer_rollups_yearly: { user_uuid: value('reviewer’s Bitbucket user uuid') },
  pull_request_reviewers: {
    user_uuid: value('Bitbucket user uuid'),
    account_id: value('Bitbucket account id'),
    display_name: value('the person’s name'),
  },
  pull_requests: {
    title: text('free text'),
    state: structural('OPEN/MERGED/DECLINED/SUPERSEDED, check-constrained'),
    author_account_id: value('Bitbucket account id'),
    author_uuid: value('Bitbucket user uuid'),
    author_uuid_lower: structural(
      'generated from author_uuid (lower case): follows its erasure, cannot be written',
    ),
    author_name: value('the person’s name'),
    source_branch: structural('ref name'),
    destination_branch: structural('ref name'),
    merge_commit: structural('commit hash'),
    closed_by_account_id: value('Bitbucket account id'),
  },
  repositories: {
    uuid: structural('repository uuid'),
    full_name: structural('workspace/repository'),
    slug: structural('repository slug'),
    name: structural('repository name'),
    mainbranch: structural('ref name'),
    sync_state: structural('sync phase, check-constrained'),
    sync_cursor: structural('Bitbucket paging cursor'),
    last_error: structural('the last sync error (HTTP status and reason)'),
    pull_requests_cursor: structural('Bitbucket paging cursor'),
    project_uuid: structural('project uuid'),
    project_key: structural('project key'),
    project_name: structural('project name'),
  },
  repository_settings: { path_exclusions: structural('setting: path patterns') },
  support_consents: {
    granted_by: value('`user:<account id>` of the admin'),
    reason: text('free text'),
  },
  team_members: {
    contributor_key: text(
      'contributor key `a:<account id>` / `e:<email>`: rewritten like the contributor it names',
    ),
  },
  teams: { name: text('the name an admin gave a team (free text)') },
  tenant_settings: {
    timezone: structural('setting: IANA time zone'),
    path_exclusions: structural('setting: path patterns'),
    bot_patterns: structural('setting: bot name patterns'),
    jira_site_url: structural('setting: the Jira site address'),
  },
  unnamed_heads: { hash: structural('commit hash') },
  webhook_deliveries: {
    request_uuid: structural('delivery id'),
    event: structural('event name'),
    hook_uuid: structural('webhook id'),
    payload: {
      personal: 'json',
      nameKeys: PAYLOAD_NAME_KEYS,
      why: 'Bitbucket’s payload: actors, commit authors and messages; refs and repositories stay',
    },
  },
  // The registry (not a tenant table): only the install payload names a person.
  tenants: {
    client_key: structural('installation key'),
    workspace_uuid: structural('workspace uuid'),
    workspace_slug: structural(
      'workspace slug (a personal workspace’s is its owner’s choice; purge removes it)',
    ),
    workspace_name: structural('workspace name (as above)'),
    base_url: structural('Bitbucket URL'),
    base_api_url: structural('Bitbucket API URL'),
    shared_secret_enc: structural('sealed secret'),
    client_info: {
      personal: 'json',
      nameKeys: PAYLOAD_NAME_KEYS,
      why: 'install payload: the installing user (principal, user, actor)',
    },
    state: structural('installed/uninstalled, check-constrained'),
    platform: structural('connect/forge, check-constrained'),
    forge_system_token_enc: structural('sealed Forge system token'),
  },
};

/** The personal columns of one table. */
export function personalColumns(table: string): [string, PersonalColumn][] {
  return Object.entries(ERASURE_COLUMNS[table] ?? {}).flatMap(([column, c]): [string, PersonalColumn][] =>
    c.personal ? [[column, c]] : [],
  );
}
