/**
 * PostgreSQL text cannot hold the NUL character, and git and Bitbucket data occasionally do (a commit message, a
 * pull request title): it is dropped on the way in, rather than failing the whole write.
 */
export const pgText = (text: string) => (text.includes('\u0000') ? text.replaceAll('\u0000', '') : text);

export const pgTextOrNull = (text: string | null) => (text === null ? null : pgText(text));

/** JSON for a `json` parameter whose strings become text columns (json_to_recordset), NUL characters dropped. */
export const pgJson = (value: unknown) =>
  JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? pgText(v) : v));
