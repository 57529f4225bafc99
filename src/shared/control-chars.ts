/**
 * Control characters in text that reaches a terminal (goals, model summaries, comments, error
 * messages) can recolour it, ring it, or overwrite a line (ESC, BEL, CR). Goals refuse them;
 * everything printed from a run goes through `printable`, which shows them escaped instead.
 */

/** Control characters other than newline and tab (C0, DEL, C1). */
export const CONTROL_CHARS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
const CONTROL_CHARS_G = new RegExp(CONTROL_CHARS.source, 'g');

/** `text` with every control character but newline and tab shown as `\xNN`. */
export function printable(text: string): string {
  return text.replace(CONTROL_CHARS_G, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** A copy of plain data (a run status, a result) with `printable` applied to every string in it. */
export function printableDeep<T>(value: T): T {
  if (typeof value === 'string') return printable(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => printableDeep(v)) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, printableDeep(v)])) as T;
  }
  return value;
}
