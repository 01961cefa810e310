import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/** No key of the ring opens a sealed value: it was sealed with a key that is no longer configured (or altered). */
export class UnreadableSecretError extends Error {
  constructor(readonly keyId: string | null) {
    super(`no configured key opens this secret (sealed with ${keyId ? `key ${keyId}` : 'an unnamed key'})`);
    this.name = 'UnreadableSecretError';
  }
}

/**
 * A key's public name: the first 8 bytes of HMAC-SHA256(key, label), in hex. One-way, so it names a key in stored
 * values and logs without saying anything about the key itself.
 */
export function keyIdOf(key: Buffer): string {
  return createHmac('sha256', key).update('tally secret-box key id').digest('hex').slice(0, 16);
}

interface RingKey {
  id: string;
  key: Buffer;
}

/**
 * AES-256-GCM for secrets at rest (tenants' shared secrets), under a key ring: the first key seals, every key opens.
 * Format: "v2:" + key id + ":" + base64(iv[12] | tag[16] | ciphertext). Values from before the ring ("v1:" + the
 * same, no key id) still open: each key is tried, and GCM's tag tells the right one.
 */
export class SecretBox {
  private readonly ring: RingKey[];

  constructor(keys: readonly Buffer[]) {
    if (keys.length === 0) throw new Error('SecretBox needs at least one key');
    for (const key of keys) if (key.length !== 32) throw new Error('SecretBox needs 32-byte keys');
    this.ring = keys.map((key) => ({ id: keyIdOf(key), key }));
  }

  /** The id of the key that seals. */
  get keyId(): string {
    return this.ring[0]!.id;
  }

  /** Every key's id, sealing key first (for logs: ids say nothing about the keys). */
  get keyIds(): string[] {
    return this.ring.map((k) => k.id);
  }

  seal(plaintext: string, associatedData = ''): string {
    const { id, key } = this.ring[0]!;
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(associatedData));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `v2:${id}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  /** Throws UnreadableSecretError when no key of the ring opens the value. */
  open(sealed: string, associatedData = ''): string {
    const { keyId, raw } = parse(sealed);
    const candidates = keyId === null ? this.ring : this.ring.filter((k) => k.id === keyId);
    for (const { key } of candidates) {
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
        decipher.setAAD(Buffer.from(associatedData));
        decipher.setAuthTag(raw.subarray(12, 28));
        return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      } catch {
        // a wrong key (or an altered value): the next candidate, if any
      }
    }
    throw new UnreadableSecretError(keyId);
  }

  /** Whether the value is sealed with the first key in the current format (nothing for a rotation to do). */
  isCurrent(sealed: string): boolean {
    return sealed.startsWith(`v2:${this.keyId}:`);
  }
}

function parse(sealed: string): { keyId: string | null; raw: Buffer } {
  const v2 = /^v2:([0-9a-f]+):(.*)$/s.exec(sealed);
  if (v2) return { keyId: v2[1]!, raw: Buffer.from(v2[2]!, 'base64') };
  if (sealed.startsWith('v1:')) return { keyId: null, raw: Buffer.from(sealed.slice(3), 'base64') };
  throw new UnreadableSecretError(null);
}
