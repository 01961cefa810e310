import { BitbucketApiError } from '../../bitbucket/client';

/** Bitbucket answered 404: the repository, ref, commit or pull request does not exist (any more). */
export const isNotFound = (error: unknown): boolean =>
  error instanceof BitbucketApiError && error.status === 404;
