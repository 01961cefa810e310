import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, type DecipherGCM } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

/**
 * Streaming AES-256-GCM for backup files.
 * Layout: header (magic "TALLYBK", version 1, 16-byte random salt, 12-byte random IV) | ciphertext | 16-byte tag.
 * The file key is HKDF-SHA256(master key, salt), so every file has its own key and IV; the header is authenticated
 * as associated data. Decryption emits plaintext before the tag is checked: callers write it to a scratch file and
 * use it only once the stream has finished without error.
 */

const MAGIC = Buffer.from('TALLYBK', 'ascii');
const VERSION = 1;
const SALT_BYTES = 16;
const IV_BYTES = 12;
const TAG_BYTES = 16;
export const HEADER_BYTES = MAGIC.length + 1 + SALT_BYTES + IV_BYTES;

const fileKey = (masterKey: Buffer, salt: Buffer) =>
  Buffer.from(hkdfSync('sha256', masterKey, salt, 'tally-backup-v1', 32));

function assertKey(key: Buffer) {
  if (key.length !== 32) throw new Error('backup encryption needs a 32-byte key');
}

export function encryptStream(masterKey: Buffer): Transform {
  assertKey(masterKey);
  const salt = randomBytes(SALT_BYTES);
  const iv = randomBytes(IV_BYTES);
  const header = Buffer.concat([MAGIC, Buffer.from([VERSION]), salt, iv]);
  const cipher = createCipheriv('aes-256-gcm', fileKey(masterKey, salt), iv);
  cipher.setAAD(header);
  let started = false;
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      if (!started) {
        started = true;
        this.push(header);
      }
      done(null, cipher.update(chunk));
    },
    flush(done: TransformCallback) {
      if (!started) this.push(header);
      this.push(cipher.final());
      done(null, cipher.getAuthTag());
    },
  });
}

export class BackupFormatError extends Error {}

export function decryptStream(masterKey: Buffer): Transform {
  assertKey(masterKey);
  let header = Buffer.alloc(0);
  let decipher: DecipherGCM | null = null;
  // The last 16 bytes seen so far may be the tag: hold them back until more data or the end arrives.
  let held = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      let data = chunk;
      if (!decipher) {
        header = Buffer.concat([header, data]);
        if (header.length < HEADER_BYTES) return done();
        data = header.subarray(HEADER_BYTES);
        header = header.subarray(0, HEADER_BYTES);
        if (!header.subarray(0, MAGIC.length).equals(MAGIC) || header[MAGIC.length] !== VERSION)
          return done(new BackupFormatError('not a Tally backup file (or an unknown version)'));
        const salt = header.subarray(MAGIC.length + 1, MAGIC.length + 1 + SALT_BYTES);
        const iv = header.subarray(MAGIC.length + 1 + SALT_BYTES);
        decipher = createDecipheriv('aes-256-gcm', fileKey(masterKey, salt), iv);
        decipher.setAAD(header);
      }
      held = Buffer.concat([held, data]);
      if (held.length <= TAG_BYTES) return done();
      const body = held.subarray(0, held.length - TAG_BYTES);
      held = held.subarray(held.length - TAG_BYTES);
      done(null, decipher.update(body));
    },
    flush(done: TransformCallback) {
      if (!decipher || held.length !== TAG_BYTES)
        return done(new BackupFormatError('backup file is truncated'));
      decipher.setAuthTag(held);
      try {
        done(null, decipher.final());
      } catch {
        done(new BackupFormatError('backup file is corrupt or was encrypted with another key'));
      }
    },
  });
}
