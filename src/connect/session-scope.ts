import { z } from 'zod';
import { validate } from '../platform/validation';

/**
 * What a session token's viewer may read (SECURITY.md, "Who sees what"). Decided once, when a page mints the token,
 * from signed input only: the page's name and its query, both covered by Bitbucket's page JWT (qsh).
 * - `repository`: one repository's analytics (the repository page);
 * - `workspace`: the whole workspace (the workspace analytics and configure pages, which Bitbucket shows to
 *   workspace admins only: `admin`);
 * - `profile`: one person's contributions (`contributor`), in public repositories only (`publicOnly`), because
 *   Bitbucket does not tell a Connect app which private repositories the viewer may read.
 * `repositories` is an explicit set (null: every repository of the workspace), so a front door that does learn a
 * viewer's permissions (Forge, API tokens) can carry them in the same claim.
 */
export interface ViewerScope {
  kind: 'workspace' | 'repository' | 'profile';
  admin: boolean;
  repositories: string[] | null;
  contributor?: string;
  publicOnly?: boolean;
}

const UUID = /^\{?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\}?$/i;

/** A Bitbucket uuid, with or without braces, as Tally stores and compares it: braced and lower-case. */
export const bracedUuid = (message: string) =>
  z
    .string()
    .regex(UUID, message)
    .refine((v) => v.startsWith('{') === v.endsWith('}'), message)
    .transform((v) => `{${UUID.exec(v)![1]!.toLowerCase()}}`);

/** The claim as it must read; anything else makes the token a 401 (old tokens without it expire in 15 minutes). */
export const viewerScopeSchema: z.ZodType<ViewerScope> = z
  .strictObject({
    kind: z.enum(['workspace', 'repository', 'profile']),
    admin: z.boolean(),
    repositories: z.array(bracedUuid('expected repository uuids')).max(10_000).nullable(),
    contributor: bracedUuid('expected a user uuid').optional(),
    publicOnly: z.boolean().optional(),
  })
  .refine((s) => s.kind !== 'repository' || (s.repositories !== null && s.repositories.length > 0), {
    message: 'a repository scope names its repositories',
  })
  .refine((s) => s.kind !== 'profile' || s.contributor !== undefined, {
    message: 'a profile scope names its person',
  })
  .refine((s) => s.kind === 'workspace' || !s.admin, { message: 'only a workspace scope is an admin scope' });

export type PageName = 'repository' | 'workspace' | 'configure' | 'profile';

const pageQueries = {
  repository: z.object({ repoUuid: bracedUuid('repoUuid: expected the repository uuid') }),
  profile: z.object({ user: bracedUuid('user: expected the person’s uuid') }),
};

/**
 * The scope of a token minted by `page`, from the page's (signed) query. A repository or profile page without a
 * valid uuid gets no scope: a 400 `invalid_request`.
 */
export function scopeForPage(page: PageName, query: unknown): ViewerScope {
  switch (page) {
    case 'repository': {
      const { repoUuid } = validate(pageQueries.repository, query, 'query');
      return { kind: 'repository', admin: false, repositories: [repoUuid] };
    }
    case 'profile': {
      const { user } = validate(pageQueries.profile, query, 'query');
      return { kind: 'profile', admin: false, repositories: null, contributor: user, publicOnly: true };
    }
    case 'workspace':
    case 'configure':
      return { kind: 'workspace', admin: true, repositories: null };
  }
}
