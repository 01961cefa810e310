/**
 * Every error Tally answers with, by stable code (the body is always `{"error": {"code", "message"}}`).
 * Clients, the UI included, branch on the code; the message is for people and may change.
 * docs/openapi.json lists the same codes (a test keeps the two equal).
 */
export const ERROR_CODES = {
  invalid_request: { status: 400, description: 'A parameter, header or body field is missing or invalid.' },
  invalid_json: { status: 400, description: 'The body is not valid JSON.' },
  invalid_text: {
    status: 400,
    description: 'A value holds bytes that cannot be stored (NUL or other control characters, bad encoding).',
  },
  range_too_large: {
    status: 400,
    description: 'The requested range, series or answer is larger than allowed.',
  },
  unauthenticated: {
    status: 401,
    description: 'No token, or the token is malformed, forged or not accepted.',
  },
  token_expired: { status: 401, description: 'The token has expired; reload the page for a new one.' },
  not_installed: {
    status: 401,
    description: 'Tally is not (or no longer, or not yet) installed for this client.',
  },
  admin_only: { status: 403, description: 'Only workspace admins, on the configure page, may do this.' },
  outside_scope: {
    status: 403,
    description:
      "The request reaches beyond what the token's viewer may see (another repository, an admin page).",
  },
  not_found: { status: 404, description: 'No such resource (or not visible to this viewer).' },
  conflict: { status: 409, description: 'The request conflicts with the current state.' },
  body_too_large: { status: 413, description: 'The body is larger than allowed.' },
  unsupported_media_type: { status: 415, description: 'The body encoding or content type is not supported.' },
  rate_limited: { status: 429, description: 'Too many requests; retry after the time in Retry-After.' },
  internal_error: { status: 500, description: 'Tally failed; the error was logged and reported.' },
  query_timeout: {
    status: 503,
    description:
      'The query took longer than allowed and was cancelled; narrow the range or filters, or retry.',
  },
  intake_full: {
    status: 503,
    description: 'Webhook intake is full for now; retry after the time in Retry-After (Bitbucket retries).',
  },
} as const satisfies Record<string, { status: number; description: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The one error body shape. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

export const errorBody = (code: ErrorCode, message: string): ErrorBody => ({ error: { code, message } });
