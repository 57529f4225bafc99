/**
 * A tool call's arguments are untrusted JSON text from the model. Every tool (built-in and MCP)
 * reads them through `readToolArguments`: at most MAX_TOOL_ARGUMENT_BYTES, valid JSON, an object,
 * nested at most MAX_ARGUMENT_DEPTH levels, and no key twice at any depth. `JSON.parse` silently
 * keeps the last of two equal keys, which once let an approver read `npm test` while a hidden
 * second "command" ran. What runs is the canonical text of what was read (`canonicalArguments`),
 * and the approver is shown that same text (`approvalView`), whole or with the bytes left out.
 */
import { APPROVAL_VIEW_CHARS, MAX_TOOL_ARGUMENT_BYTES } from '../../shared/tools';

/** Deepest nesting of objects and arrays accepted in a call's arguments. */
export const MAX_ARGUMENT_DEPTH = 64;

/** The arguments read, or why they were refused (a message the model can act on). */
export type ArgumentsReading = { ok: true; value: Record<string, unknown> } | { ok: false; error: string };

const EXAMPLE = 'send one JSON object, e.g. {"path": "index.html"}';

/** `text` cut to `max` characters for an error message, on one line. */
function shortText(text: string, max = 60): string {
  const one = JSON.stringify(text.length > max ? `${text.slice(0, max)}...` : text);
  return one.slice(1, -1);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/**
 * Walks JSON text once without recursion: the first key that repeats within one object (with its
 * path, e.g. `opts.a`) or nesting past MAX_ARGUMENT_DEPTH. Strings are skipped whole, keys are
 * decoded (`"\u0063ommand"` is `command`). On malformed text it stops early; JSON.parse reports that.
 */
function structureProblem(text: string, checkKeys: boolean): string | undefined {
  const keys: (Set<string> | null)[] = [];
  const names: string[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c /* \ */ ? 2 : 1;
      const top = keys[keys.length - 1];
      if (expectKey && checkKeys && top) {
        let key: string;
        try {
          key = JSON.parse(text.slice(i, j + 1)) as string;
        } catch {
          return undefined;
        }
        if (top.has(key)) {
          const path = [...names.slice(0, keys.length - 1), key].reduce(
            (p, n) => (n === '[]' ? `${p}[]` : p ? `${p}.${n}` : n),
            '',
          );
          return `the arguments have the key "${shortText(path)}" twice; send each key once (a repeated key is ambiguous)`;
        }
        top.add(key);
        names[keys.length - 1] = key;
      }
      expectKey = false;
      i = j;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      keys.push(c === 0x7b ? new Set() : null);
      names[keys.length - 1] = '[]';
      if (keys.length > MAX_ARGUMENT_DEPTH)
        return `the arguments nest deeper than ${MAX_ARGUMENT_DEPTH} levels; send a flatter JSON object`;
      expectKey = c === 0x7b;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      keys.pop();
      names.length = keys.length;
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = keys[keys.length - 1] instanceof Set;
    } else if (c === 0x3a /* : */) {
      expectKey = false;
    }
  }
  return undefined;
}

/** Reads a call's arguments strictly (see the module comment); empty text reads as `{}`. */
export function readToolArguments(raw: string): ArgumentsReading {
  const bytes = Buffer.byteLength(raw);
  if (bytes > MAX_TOOL_ARGUMENT_BYTES)
    return {
      ok: false,
      error: `the arguments are ${bytes} bytes; at most ${MAX_TOOL_ARGUMENT_BYTES} are accepted (write a large file in parts, or generate it with a command)`,
    };
  const text = raw.trim() === '' ? '{}' : raw;
  const deep = structureProblem(text, false);
  if (deep) return { ok: false, error: deep };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return {
      ok: false,
      error: `the arguments are not valid JSON (${shortText((err as Error).message, 120)}); ${EXAMPLE}`,
    };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, error: `the arguments must be a JSON object, not ${kindOf(value)}; ${EXAMPLE}` };
  const repeated = structureProblem(text, true);
  if (repeated) return { ok: false, error: repeated };
  return { ok: true, value: value as Record<string, unknown> };
}

/**
 * The one JSON text of `value` that runs and that the approver reads: the tool's declared
 * `parameters` first (so padding cannot push them out of view), then the other keys as given.
 * Written out key by key, so key order is exactly this (a JS object would put "0", "1" first).
 */
export function canonicalArguments(value: Record<string, unknown>, parameters: readonly string[]): string {
  const own = Object.keys(value);
  const first = [...new Set(parameters)].filter((p) => own.includes(p));
  const order = [...first, ...own.filter((k) => !first.includes(k))];
  return `{${order.map((k) => `${JSON.stringify(k)}:${JSON.stringify(value[k])}`).join(',')}}`;
}

/** Characters a reader cannot see or that reorder text (C1, bidi, zero-width, separators): shown escaped. */
const INVISIBLE = /[\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/;

/**
 * `canonical` as the approver reads it: invisible characters escaped (`\u202e`, still the same
 * JSON), cut after `max` shown characters with `[truncated, N more bytes]`, N counting the bytes of
 * `canonical` not shown. The cut never splits a character or an escape.
 */
export function approvalView(canonical: string, max = APPROVAL_VIEW_CHARS): string {
  let shown = '';
  let used = 0;
  for (const ch of canonical) {
    const out = INVISIBLE.test(ch) ? `\\u${ch.codePointAt(0)!.toString(16).padStart(4, '0')}` : ch;
    if (shown.length + out.length > max) {
      const more = Buffer.byteLength(canonical) - Buffer.byteLength(canonical.slice(0, used));
      return `${shown} [truncated, ${more} more bytes]`;
    }
    shown += out;
    used += ch.length;
  }
  return shown;
}
