/** Text split into plain parts and Jira issue keys (`ABC-123`), so keys can become links. */
export type TextPart = { text: string; issue?: string };

// A project key: an upper-case letter, then upper-case letters, digits or underscores; a dash and a number.
const ISSUE_KEY = /\b([A-Z][A-Z0-9_]+-[1-9][0-9]*)\b/g;

export function issueParts(text: string): TextPart[] {
  const parts: TextPart[] = [];
  let last = 0;
  for (const match of text.matchAll(ISSUE_KEY)) {
    if (match.index > last) parts.push({ text: text.slice(last, match.index) });
    parts.push({ text: match[1]!, issue: match[1]! });
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return parts;
}

/** The issue's address on the workspace's Jira site (an https origin the server checked). */
export const issueUrl = (site: string, key: string) =>
  `${site.replace(/\/+$/, '')}/browse/${encodeURIComponent(key)}`;
