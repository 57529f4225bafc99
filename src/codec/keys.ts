/**
 * Encryption keys of the payload codec, from the environment: `MAESTRO_ENCRYPTION_KEYS`
 * (`id=base64,id=base64`, the first encrypts) or `MAESTRO_ENCRYPTION_KEY_FILE` (JSON
 * `{ "current": "id", "keys": { "id": "base64" } }`). Keeping old keys listed lets histories
 * written before a rotation still decrypt.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';

/** AES-256 needs 32-byte keys. */
export const KEY_BYTES = 32;

/** The keys a codec can use: `currentKeyId` encrypts, every key decrypts. */
export interface EncryptionKeys {
  currentKeyId: string;
  keys: Record<string, Buffer>;
}

/** The key file's shape; the same name is used for the zod schema and its type. */
export const EncryptionKeyFile = z.object({
  current: z.string().min(1),
  keys: z.record(z.string().min(1), z.string().min(1)),
});
/** Parsed key file. */
export type EncryptionKeyFile = z.infer<typeof EncryptionKeyFile>;

const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;
const HINT = 'generate a key with `openssl rand -base64 32`';

function decodeKey(id: string, base64: string, where: string, problems: string[]): Buffer | undefined {
  if (!KEY_ID.test(id)) {
    problems.push(`  ${where}: key id "${id}" must be 1-64 letters, digits, '.', '_' or '-'`);
    return undefined;
  }
  const key = Buffer.from(base64.trim(), 'base64');
  if (key.length !== KEY_BYTES || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64.trim())) {
    problems.push(`  ${where}: key "${id}" must be ${KEY_BYTES} bytes in base64 (got ${key.length} bytes); ${HINT}`);
    return undefined;
  }
  return key;
}

/** Keys from `id=base64,...`; the first one encrypts. */
function keysFromList(list: string, problems: string[]): EncryptionKeys | undefined {
  const keys: Record<string, Buffer> = {};
  let currentKeyId: string | undefined;
  for (const item of list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = item.indexOf('=');
    if (eq <= 0 || item.slice(eq + 1).replace(/=+$/, '') === '') {
      problems.push(`  MAESTRO_ENCRYPTION_KEYS: each entry is id=base64key, e.g. k1=<key>; ${HINT}`);
      return undefined;
    }
    const id = item.slice(0, eq);
    const key = decodeKey(id, item.slice(eq + 1), 'MAESTRO_ENCRYPTION_KEYS', problems);
    if (!key) return undefined;
    keys[id] = key;
    currentKeyId ??= id;
  }
  if (!currentKeyId) {
    problems.push(`  MAESTRO_ENCRYPTION_KEYS: is empty; give id=base64key entries; ${HINT}`);
    return undefined;
  }
  return { currentKeyId, keys };
}

/** Keys from the JSON key file. */
function keysFromFile(file: string, problems: string[]): EncryptionKeys | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    problems.push(`  MAESTRO_ENCRYPTION_KEY_FILE: cannot read ${file} as JSON (${(err as Error).message})`);
    return undefined;
  }
  const parsed = EncryptionKeyFile.safeParse(raw);
  if (!parsed.success) {
    problems.push(
      `  MAESTRO_ENCRYPTION_KEY_FILE: ${file} must look like {"current":"k1","keys":{"k1":"<base64 key>"}}`,
    );
    return undefined;
  }
  const keys: Record<string, Buffer> = {};
  for (const [id, b64] of Object.entries(parsed.data.keys)) {
    const key = decodeKey(id, b64, `MAESTRO_ENCRYPTION_KEY_FILE (${file})`, problems);
    if (!key) return undefined;
    keys[id] = key;
  }
  if (!keys[parsed.data.current]) {
    problems.push(
      `  MAESTRO_ENCRYPTION_KEY_FILE: "current" names key "${parsed.data.current}", which is not in "keys"`,
    );
    return undefined;
  }
  return { currentKeyId: parsed.data.current, keys };
}

/**
 * Reads the encryption settings; undefined when encryption is off. Problems are appended to
 * `problems` as lines naming the variable (the caller reports them all at once).
 */
export function encryptionKeysFromEnv(
  env: { MAESTRO_ENCRYPTION_KEYS?: string; MAESTRO_ENCRYPTION_KEY_FILE?: string },
  problems: string[],
): EncryptionKeys | undefined {
  if (env.MAESTRO_ENCRYPTION_KEYS && env.MAESTRO_ENCRYPTION_KEY_FILE) {
    problems.push('  MAESTRO_ENCRYPTION_KEYS: set it or MAESTRO_ENCRYPTION_KEY_FILE, not both');
    return undefined;
  }
  if (env.MAESTRO_ENCRYPTION_KEYS) return keysFromList(env.MAESTRO_ENCRYPTION_KEYS, problems);
  if (env.MAESTRO_ENCRYPTION_KEY_FILE) return keysFromFile(env.MAESTRO_ENCRYPTION_KEY_FILE, problems);
  return undefined;
}
