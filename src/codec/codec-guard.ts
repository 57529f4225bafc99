/**
 * What the codec server checks before it decodes anything (issue 19 item 7.6): the request is for
 * this server (its `Host` is a loopback name, the bound address or a configured hostname, so a DNS
 * rebinding page cannot reach it under its own name), comes from an allowed browser origin (or none),
 * carries the token, and is small: a bounded body, payload count, metadata entries and decoded
 * bytes, so a request of a few megabytes cannot make the server allocate gigabytes.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

/** Largest request body read (base64 of MAX_DECODED_BYTES plus the JSON around it). */
export const MAX_BODY_BYTES = 12 * 1024 * 1024;
/** Most payloads in one request (the Web UI and the CLI send one event's payloads at a time). */
export const MAX_PAYLOADS = 10_000;
/** Most metadata entries of one payload (Temporal's own payloads have two or three). */
export const MAX_METADATA_ENTRIES = 64;
/** Most bytes of data and metadata values, after base64 decoding, in one request. */
export const MAX_DECODED_BYTES = 8 * 1024 * 1024;

/** A request the server refuses: HTTP status and the message that says why. */
export interface Refusal {
  status: number;
  error: string;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1']);
const WILDCARDS = new Set(['0.0.0.0', '::']);

/** The host name of a `Host` header, lower-case, without port or IPv6 brackets. */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  // A bracketed IPv6 literal, with at most a port after it: anything else is kept whole (no match).
  if (h.startsWith('[')) return /^\[([^\]]*)\](:\d*)?$/.exec(h)?.[1] ?? h;
  const colon = h.lastIndexOf(':');
  return colon >= 0 && h.indexOf(':') === colon ? h.slice(0, colon) : h;
}

/**
 * Whether a `Host` header names this server: a loopback name, the address it is bound to, a
 * configured name, or (bound to every interface) any IP address. A DNS rebinding attack always
 * arrives under the attacker's domain name, so it is refused.
 */
export function hostAllowed(header: string | undefined, bindHost: string, allowedHosts: readonly string[]): boolean {
  if (!header) return false;
  const name = hostName(header);
  if (LOOPBACK_NAMES.has(name) || name === hostName(bindHost)) return true;
  if (allowedHosts.some((h) => hostName(h) === name)) return true;
  return WILDCARDS.has(bindHost) && isIP(name) !== 0;
}

/** Constant-time token comparison over SHA-256 digests: neither content nor length leaks. */
export function tokenMatches(given: string | undefined, token: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return given !== undefined && timingSafeEqual(digest(given), digest(token));
}

/** Most JSON values (objects, arrays and list items) a body may hold: 10,000 payloads need about 60,000. */
export const MAX_JSON_VALUES = 100_000;

/**
 * Counts the JSON objects, arrays and separators in `text` (outside strings) without parsing it,
 * stopping at `limit + 1`: JSON.parse of millions of tiny values is itself the memory attack.
 */
export function jsonValueCount(text: string, limit: number): number {
  let count = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b || c === 0x2c) {
      if (++count > limit) return count;
    }
  }
  return count;
}

/** Refusal of a body whose shape alone is too large (checked before JSON.parse), or undefined. */
export function bodyShapeRefusal(text: string): Refusal | undefined {
  if (jsonValueCount(text, MAX_JSON_VALUES) > MAX_JSON_VALUES) return tooManyPayloads();
  return undefined;
}

/** Refusal of parsed payloads over the count, metadata or decoded-bytes limits, or undefined. */
export function payloadsRefusal(
  payloads: readonly { metadata?: Record<string, string>; data?: string }[],
): Refusal | undefined {
  if (payloads.length > MAX_PAYLOADS) return tooManyPayloads();
  let bytes = 0;
  const b64Bytes = (s: string | undefined) => Math.floor(((s ?? '').length * 3) / 4);
  for (const p of payloads) {
    const entries = Object.entries(p.metadata ?? {});
    if (entries.length > MAX_METADATA_ENTRIES) {
      return {
        status: 413,
        error: `A payload may have at most ${MAX_METADATA_ENTRIES} metadata entries; this one has ${entries.length}.`,
      };
    }
    bytes += b64Bytes(p.data) + entries.reduce((n, [k, v]) => n + k.length + b64Bytes(v), 0);
  }
  if (bytes > MAX_DECODED_BYTES) {
    return {
      status: 413,
      error: `One request may carry at most ${MAX_DECODED_BYTES.toLocaleString('en-US')} bytes of payload data (decoded); this one has about ${bytes.toLocaleString('en-US')}. Send fewer payloads per request.`,
    };
  }
  return undefined;
}

function tooManyPayloads(): Refusal {
  return {
    status: 413,
    error: `One request may carry at most ${MAX_PAYLOADS.toLocaleString('en-US')} payloads (each with at most ${MAX_METADATA_ENTRIES} metadata entries). Send fewer payloads per request.`,
  };
}
