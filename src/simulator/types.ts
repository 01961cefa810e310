/** Public types of the Bitbucket Cloud simulator (see README.md). */

export type FileStatus = 'added' | 'removed' | 'modified' | 'renamed';

/** One file of a commit in the history export; `null` counts mean a binary file. */
export interface ExportFile {
  path: string;
  added: number | null;
  removed: number | null;
  /** Present for renames (the export writes `status: "renamed"` with it). */
  old_path?: string;
  /** Only renames carry it in the express export; git-loaded histories carry all four. */
  status?: FileStatus;
}

export interface ExportPerson {
  name: string;
  email: string;
}

/** One commit of the history export format (`data/express.jsonl.gz`, one per line). */
export interface ExportCommit {
  hash: string;
  parents: string[];
  author: ExportPerson;
  /** Author date, ISO 8601 with offset. */
  date: string;
  committer?: ExportPerson;
  /** Committer date, ISO 8601 with offset. */
  committed?: string;
  message: string;
  /** Diffed against the first parent (merges included). */
  files: ExportFile[];
}

export interface ExportRefs {
  branches: Record<string, string>;
  tags?: Record<string, string>;
  mainbranch?: string;
}

export type HistorySource =
  | { exportFile: string; refsFile?: string }
  | { gitDir: string }
  | { commits: ExportCommit[]; refs: ExportRefs };

/** A commit given to `push`: hash/parents/dates may be left for the simulator to fill in. */
export interface PushCommit {
  hash?: string;
  parents?: string[];
  author: ExportPerson;
  date?: string;
  committer?: ExportPerson;
  committed?: string;
  message: string;
  files?: ExportFile[];
}

export interface SimulatorKnobs {
  /** Per workspace (clientKey) for /2.0/repositories/*; default 1000; Infinity disables. */
  rateLimitPerHour: number;
  /** Sliding window length; default 3_600_000. */
  rateWindowMs: number;
  /**
   * Paid seats per workspace slug: a workspace with more than 100 gets Bitbucket's scaled limit, 1000 + 10 ×
   * (seats − 100) an hour, at most 10,000, for access tokens and Forge apps (not Connect JWT). Empty by default.
   */
  paidSeats: Record<string, number>;
  /**
   * Bitbucket announces (X-RateLimit-*) and scales limits for access tokens and Forge apps (Bearer) only; tests set
   * this to treat Connect JWT callers as token callers too. Default false.
   */
  announceToConnect: boolean;
  /** Added to every API response; default 0. */
  latencyMs: number;
  /** Share of API requests answered 500/502/503 with Bitbucket error bodies. */
  faultRate: number;
  /** Share of API requests that hang, then have their socket destroyed after `hangMs`. */
  timeoutRate: number;
  /** How long a "timed out" request hangs before its socket is destroyed; default 5000. */
  hangMs: number;
}

export interface SimulatorOptions extends Partial<SimulatorKnobs> {
  host?: string;
  /** The Forge app whose Custom UI pages bitbucket.org shows (default: forge/manifest.yml). */
  forgeManifestPath?: string;
  webPort?: number;
  apiPort?: number;
  appKey?: string;
  seed?: number;
  now?: () => Date;
  /** Webhook/lifecycle request timeout; Bitbucket uses 10 s. */
  webhookTimeoutMs?: number;
  /** Which viewer id goes into the iframe JWT `sub` (UNCONFIRMED which one Bitbucket uses). */
  iframeSub?: 'account_id' | 'uuid';
  /** Cap on `requestLog` entries kept (oldest dropped); default 100_000. */
  requestLogLimit?: number;
  /**
   * The addresses the simulator calls itself in install payloads and links (default: where it listens), for
   * when a front such as an HTTPS proxy serves it under Bitbucket's own names (the production smoke test).
   */
  publicUrls?: { web: string; api: string };
}

export interface Delivery {
  /** X-Request-UUID: stable across retries and redeliveries. */
  id: string;
  /** `forge`: a Forge lifecycle or product event posted to a Forge remote (src/simulator/forge-app.ts). */
  kind: 'webhook' | 'lifecycle' | 'forge';
  event: string;
  url: string;
  /** X-Hook-UUID for webhooks; absent for lifecycle calls. */
  hookUuid?: string;
  workspace: string;
  body: unknown;
  /** Final HTTP status of the last attempt; 0 when the request failed (network error, timeout). */
  status: number;
  attempts: number;
  attemptLog: { attempt: number; status: number; at: string; error?: string }[];
}

export interface ApiRequestRecord {
  method: string;
  path: string;
  query: string;
  /** 0 when the simulator hung the request on purpose (timeout fault). */
  status: number;
  clientKey: string | null;
  at: string;
  fault?: 'error' | 'timeout';
}

/** What every mutation returns: the webhook deliveries it caused (awaited, retries included). */
export interface MutationResult {
  deliveries: Delivery[];
  /** The first delivery, for the common one-subscription case. */
  delivery?: Delivery;
}

export interface PushResult extends MutationResult {
  /** Hashes of the pushed commits, oldest first. */
  commits: string[];
  /** Branch head after the push. */
  head: string;
}

export interface PullRequestResult extends MutationResult {
  id: number;
}

export interface InstallResult {
  status: number;
  clientKey: string;
  sharedSecret: string;
}

export interface ModuleContext {
  repo?: string;
  targetUserUuid?: string;
  /** Viewer account_id or `{uuid}`; defaults to the workspace's admin (the installer). */
  viewer?: string;
}
