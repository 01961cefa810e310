import { z } from 'zod';

/**
 * zod schemas of the Bitbucket Cloud API 2.0 payloads Tally reads (shapes from reference §4 and the OpenAPI
 * document). Objects are loose: Bitbucket adds fields over time and Tally must not break on them, but every field
 * Tally stores or follows is checked, so a malformed payload is refused before anything is written.
 */

const fullHash = z.string().regex(/^[0-9a-f]{40}$/, 'expected a 40-character hex commit hash');
/** Pull request payloads carry 12-character short hashes. */
const shortOrFullHash = z.string().regex(/^[0-9a-f]{7,40}$/, 'expected a hex commit hash');
const isoDate = z.iso.datetime({ offset: true });
const bracedUuid = z.string().min(3).max(64);
const href = z.object({ href: z.url() }).loose();

const envelopes = new WeakMap<z.ZodType, z.ZodType>();

/**
 * The paging envelope of every list endpoint (follow `next` as an opaque absolute URL). Built once per item
 * schema: zod compiles a schema on first use, which costs far more than parsing a page.
 */
export function paginated<T extends z.ZodType>(item: T): ReturnType<typeof envelope<T>> {
  let cached = envelopes.get(item);
  if (!cached) {
    cached = envelope(item);
    envelopes.set(item, cached);
  }
  return cached as ReturnType<typeof envelope<T>>;
}

function envelope<T extends z.ZodType>(item: T) {
  return z
    .object({
      values: z.array(item),
      next: z.url().optional(),
      previous: z.url().optional(),
      pagelen: z.number().int().nonnegative().optional(),
      page: z.union([z.number().int(), z.string()]).optional(),
      size: z.number().int().nonnegative().optional(),
    })
    .loose();
}

export type Page<T> = { values: T[]; next?: string };

export const userSchema = z
  .object({
    type: z.string().optional(),
    uuid: bracedUuid,
    account_id: z.string().min(1).max(128).optional(),
    display_name: z.string().max(512),
    nickname: z.string().max(512).optional(),
  })
  .loose();
export type BitbucketUser = z.infer<typeof userSchema>;

export const repositorySchema = z
  .object({
    type: z.literal('repository').optional(),
    uuid: bracedUuid,
    full_name: z.string().min(3).max(512),
    name: z.string().min(1).max(512),
    slug: z.string().min(1).max(256),
    is_private: z.boolean().optional(),
    mainbranch: z
      .object({ name: z.string().min(1).max(1024) })
      .loose()
      .nullish(),
    links: z.object({ commits: href.optional() }).loose().optional(),
    // The repository's project (absent in a personal workspace); only its identity and names are kept.
    project: z
      .object({ uuid: bracedUuid, key: z.string().min(1).max(128), name: z.string().min(1).max(512) })
      .loose()
      .nullish(),
  })
  .loose();
export type BitbucketRepository = z.infer<typeof repositorySchema>;
export const repositoryPageSchema = paginated(repositorySchema);

export const commitAuthorSchema = z
  .object({
    raw: z.string().max(2048),
    user: userSchema.optional(),
  })
  .loose();

export const commitSchema = z
  .object({
    type: z.literal('commit').optional(),
    hash: fullHash,
    date: isoDate,
    author: commitAuthorSchema,
    message: z.string(),
    parents: z.array(z.object({ hash: fullHash }).loose()),
  })
  .loose();
export type BitbucketCommit = z.infer<typeof commitSchema>;
export const commitPageSchema = paginated(commitSchema);

const commitFileSchema = z
  .object({
    path: z.string().min(1),
    attributes: z.string().optional(),
  })
  .loose();

export const diffstatSchema = z
  .object({
    type: z.literal('diffstat').optional(),
    status: z.enum(['added', 'removed', 'modified', 'renamed']),
    lines_added: z.number().int().nonnegative(),
    lines_removed: z.number().int().nonnegative(),
    old: commitFileSchema.nullable(),
    new: commitFileSchema.nullable(),
  })
  .loose()
  .refine((d) => d.old !== null || d.new !== null, 'a diffstat entry names neither an old nor a new file');
export type BitbucketDiffstat = z.infer<typeof diffstatSchema>;
export const diffstatPageSchema = paginated(diffstatSchema);

const participantSchema = z
  .object({
    user: userSchema,
    role: z.enum(['PARTICIPANT', 'REVIEWER']),
    approved: z.boolean(),
    state: z.enum(['approved', 'changes_requested']).nullable().optional(),
    participated_on: isoDate.nullable().optional(),
  })
  .loose();
export type BitbucketParticipant = z.infer<typeof participantSchema>;

const prEndpointSchema = z
  .object({
    branch: z.object({ name: z.string() }).loose().optional(),
    commit: z.object({ hash: shortOrFullHash }).loose().nullable().optional(),
  })
  .loose();

export const pullRequestSchema = z
  .object({
    type: z.literal('pullrequest').optional(),
    id: z.number().int().positive(),
    title: z.string(),
    state: z.enum(['OPEN', 'MERGED', 'DECLINED', 'SUPERSEDED']),
    draft: z.boolean().optional(),
    author: userSchema.nullable().optional(),
    source: prEndpointSchema,
    destination: prEndpointSchema,
    merge_commit: z.object({ hash: shortOrFullHash }).loose().nullable().optional(),
    closed_by: userSchema.nullable().optional(),
    created_on: isoDate,
    updated_on: isoDate,
    comment_count: z.number().int().nonnegative().optional(),
    task_count: z.number().int().nonnegative().optional(),
    // Only GET …/pullrequests/{id} (and webhooks) carry these two.
    reviewers: z.array(userSchema).optional(),
    participants: z.array(participantSchema).optional(),
  })
  .loose();
export type BitbucketPullRequest = z.infer<typeof pullRequestSchema>;
/** Pull request lists allow at most pagelen=50 (reference §4). */
export const pullRequestPageSchema = paginated(pullRequestSchema);

/** One entry of …/pullrequests/{id}/activity: a state update, an approval, or a comment. */
export const activitySchema = z
  .object({
    update: z
      .object({
        state: z.enum(['OPEN', 'MERGED', 'DECLINED', 'SUPERSEDED']).optional(),
        date: isoDate,
        author: userSchema.nullable().optional(),
      })
      .loose()
      .optional(),
    approval: z.object({ date: isoDate, user: userSchema }).loose().optional(),
    comment: z
      .object({
        id: z.number().int().optional(),
        created_on: isoDate.optional(),
        user: userSchema.optional(),
      })
      .loose()
      .optional(),
  })
  .loose();
export type BitbucketActivity = z.infer<typeof activitySchema>;
export const activityPageSchema = paginated(activitySchema);

export const emailSchema = z
  .object({ email: z.string().min(3).max(320), is_primary: z.boolean(), is_confirmed: z.boolean() })
  .loose();
export const emailPageSchema = paginated(emailSchema);
