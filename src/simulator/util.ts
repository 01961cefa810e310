import { createHash, randomBytes } from 'node:crypto';

/** sha256 hex of a string; the simulator's source of deterministic ids. */
export function sha256Hex(input: string): string {
  return createHash('sha256').update(input).digest('hex');
}

/** A float in [0, 1) derived from a string: stable "randomness" for synthesized data. */
export function unitHash(input: string): number {
  return parseInt(sha256Hex(input).slice(0, 8), 16) / 0x1_0000_0000;
}

/** Deterministic RFC 4122 v4-shaped UUID (no braces) from a seed string. */
export function uuidFrom(seed: string): string {
  const h = sha256Hex(seed);
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Bitbucket writes UUIDs with braces in payloads and paths: `{…}`. */
export function braced(uuid: string): string {
  return uuid.startsWith('{') ? uuid : `{${uuid}}`;
}

export function unbraced(uuid: string): string {
  return uuid.replace(/^\{|\}$/g, '');
}

/** A fresh random secret of `length` URL-safe characters (Bitbucket allows up to 128). */
export function randomSecret(length = 64): string {
  return randomBytes(Math.ceil((length * 3) / 4) + 3)
    .toString('base64url')
    .slice(0, length);
}

/**
 * Bitbucket dates are ISO 8601 in UTC with an explicit `+00:00` offset.
 * Commit dates carry whole seconds; other timestamps carry microseconds.
 */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', '+00:00');
}

export function isoMicros(ms: number, salt = ''): string {
  const base = new Date(Math.floor(ms)).toISOString(); // 2021-03-24T02:46:15.317Z
  const micros = salt ? String(Math.floor(unitHash(salt) * 1000)).padStart(3, '0') : '000';
  return `${base.slice(0, 23)}${micros}+00:00`;
}

/** Parses an ISO date (any offset) to epoch ms; throws on garbage so bad input fails loudly. */
export function parseDateMs(value: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new Error(`Invalid date: ${value}`);
  return ms;
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Minimal markdown-ish rendering: paragraphs split on blank lines, text escaped. */
export function renderParagraphs(raw: string): string {
  const paras = raw
    .trim()
    .split(/\n{2,}/)
    .filter((p) => p.length > 0);
  return paras.map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>\n')}</p>`).join('\n');
}

export function slugify(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return slug || 'repo';
}

/** Seeded PRNG (mulberry32): fault injection must be reproducible from `seed`. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
