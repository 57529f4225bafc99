/**
 * AES-256-GCM payload codec: every payload (workflow inputs, results, signals, memos, failure
 * details) is encrypted before it leaves the process, so goals, specs, reviews and summaries are
 * never stored in Temporal in plain text. The key id travels in the payload metadata, so keys can
 * rotate: new payloads use the current key, old ones decrypt with whichever key wrote them.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { EncryptionKeys } from './keys';

/** Metadata `encoding` of encrypted payloads (the same value Temporal's samples use). */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** Metadata key naming the key that encrypted a payload. */
export const KEY_ID_METADATA = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array | null | undefined): string => (b ? Buffer.from(b).toString('utf8') : '');

/** Decryption failed: unknown key id, wrong key or a damaged payload; says which and what to do. */
export class PayloadDecryptionError extends Error {
  override name = 'PayloadDecryptionError';
}

/** Encrypts with the current key, decrypts with any configured key (see the module comment). */
export class AesGcmCodec implements PayloadCodec {
  constructor(private readonly keys: EncryptionKeys) {}

  /** Encrypts each payload (its whole protobuf encoding, metadata included). */
  encode(payloads: Payload[]): Promise<Payload[]> {
    const keyId = this.keys.currentKeyId;
    const key = this.keys.keys[keyId]!;
    return Promise.resolve(
      payloads.map((payload) => {
        const iv = randomBytes(IV_BYTES);
        const cipher = createCipheriv('aes-256-gcm', key, iv);
        const plain = temporal.api.common.v1.Payload.encode(payload).finish();
        const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
        return { metadata: { encoding: utf8(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8(keyId) }, data };
      }),
    );
  }

  /** Decrypts encrypted payloads; others (written before encryption was on) pass through. */
  decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.resolve().then(() => payloads.map((payload) => this.decodeOne(payload)));
  }

  private decodeOne(payload: Payload): Payload {
    if (text(payload.metadata?.encoding) !== ENCRYPTED_ENCODING) return payload;
    const keyId = text(payload.metadata?.[KEY_ID_METADATA]);
    const key = this.keys.keys[keyId];
    if (!key) {
      throw new PayloadDecryptionError(
        `A payload was encrypted with key "${keyId}", which is not configured here (known: ${Object.keys(this.keys.keys).join(', ')}). ` +
          'Add that key to MAESTRO_ENCRYPTION_KEYS or the key file (keep old keys after a rotation).',
      );
    }
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadDecryptionError('An encrypted payload is truncated.');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return temporal.api.common.v1.Payload.decode(plain);
    } catch {
      throw new PayloadDecryptionError(
        `Cannot decrypt a payload with key "${keyId}": the configured key of that id is wrong (or the payload is damaged). ` +
          'Check MAESTRO_ENCRYPTION_KEYS / MAESTRO_ENCRYPTION_KEY_FILE: it must hold the same key the writer used.',
      );
    }
  }
}

/**
 * A person-readable explanation when `err` (or its cause) comes from encrypted payloads this
 * process cannot read: a wrong or unknown key, or no key configured at all. Undefined otherwise.
 */
export function explainPayloadError(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof PayloadDecryptionError || e.name === 'PayloadDecryptionError') return e.message;
    if (e.message.includes(ENCRYPTED_ENCODING)) {
      return (
        `This run's data is encrypted (payload encoding ${ENCRYPTED_ENCODING}) and no encryption key is configured here. ` +
        'Set MAESTRO_ENCRYPTION_KEYS or MAESTRO_ENCRYPTION_KEY_FILE to the keys the workers use.'
      );
    }
  }
  return undefined;
}
