/**
 * Control characters in text that reaches a terminal (goals, model summaries, comments, error
 * messages) can recolour it, ring it, or overwrite a line (ESC, BEL, CR); bidi controls reorder
 * it and newlines start lines that look like Maestro's own (a fake `Waiting for a person` line).
 * Goals refuse control characters; everything printed from a run goes through `printable` or
 * `printableDeep` (see model-text.ts), which show such characters escaped instead.
 */
import { mapStrings, terminalBlock, terminalLine } from './model-text';

/** Control characters other than newline and tab (C0, DEL, C1). */
export const CONTROL_CHARS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

/** `text` with every control, bidi and zero-width character shown as `\xNN`/`\uNNNN`; lines are kept. */
export function printable(text: string): string {
  return terminalBlock(text);
}

/**
 * A copy of plain data (a run status, a result) with every string made one terminal line
 * (`terminalLine`): a string from a run never starts a line of its own on the screen.
 */
export function printableDeep<T>(value: T): T {
  return mapStrings(value, terminalLine);
}
