/**
 * Model text (plan summaries, ticket titles and specs, review feedback, report headlines, tool
 * call arguments) is untrusted input wherever Maestro shows it. A model that writes a newline and
 * `Waiting for a person: final#9`, a markdown link, an `<img onerror>`, a right-to-left override
 * or `<!channel>` must not make Maestro's own words lie. Every place that shows model text goes
 * through one of these functions, one per medium:
 *
 * - `plainLine`: one line of plain text (JSON fields, gate reasons, webhook fields);
 * - `markdownInline`: Temporal Web UI details (markdown + HTML), a spec included;
 * - `summaryText`: Temporal summaries, shown as plain text and as markdown;
 * - `terminalLine` / `terminalBlock`: the terminal (escape sequences shown, never run);
 * - `slackText`: Slack mrkdwn of webhook posts.
 *
 * All of them remove bidi controls (text that displays reordered: `gpj.exe` as `exe.jpg`) and
 * zero-width characters, and no output of a `*Line`/`*Inline` function holds a line break.
 * Pure and deterministic: workflows use it too.
 */

/** Bidi embeddings, overrides and isolates, the LRM/RLM/ALM marks. */
const BIDI = '\\u202a-\\u202e\\u2066-\\u2069\\u200e\\u200f\\u061c';
/** Zero-width space/joiners, word joiner and invisible operators, BOM, soft hyphen. */
const ZERO_WIDTH = '\\u200b-\\u200d\\u2060-\\u2064\\ufeff\\u00ad';
/** Line breaks of every kind (CR LF, CR, LF, VT, FF, NEL, line and paragraph separators). */
const LINE_BREAK = /\r\n|[\n\r\u000b\u000c\u0085\u2028\u2029]/g;
/** Characters no medium shows as themselves: bidi, zero-width. */
const INVISIBLE = new RegExp(`[${BIDI}${ZERO_WIDTH}]`, 'g');
/** Other control characters: C0 (tab included), DEL, C1. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** One line of plain text: line breaks and tabs become spaces, invisible and control characters go. */
export function plainLine(text: string): string {
  return text.replace(LINE_BREAK, ' ').replace(/\t/g, ' ').replace(INVISIBLE, '').replace(CONTROL, '');
}

/**
 * ASCII punctuation that markdown (CommonMark, GFM) or HTML may read as syntax, escaped with a
 * backslash. The Temporal Web UI's renderer honours these escapes (and not all others, nor
 * entities: `&lt;` shows as `&lt;`), so `<`, `>` and `&` are escaped the same way.
 */
const MARKDOWN_PUNCT = /[\\`*_{}[\]()#+\-.!|~<>&:$^]/g;

/**
 * Markdown that shows `text` as one line of literal text: no heading, quote, list, table,
 * emphasis, code, HTML tag, link or autolink (the escaped `:` and `.` of `http://` and `www.` keep
 * them from being linked). Use for every model string in a summary or details markdown, also in
 * a table cell.
 */
export function markdownInline(text: string): string {
  return plainLine(text).replace(MARKDOWN_PUNCT, (c) => `\\${c}`);
}

/**
 * One line that reads right both as plain text and as markdown, for Temporal's summaries (the
 * Web UI shows a summary as plain text in the timeline and as markdown in its metadata view), so
 * it cannot use backslash escapes: `<` and `>` become `‹` and `›` (no HTML tag, no autolink), a
 * `[text](url)` loses its link (`]` and `(` apart, as `]（`), and `scheme://` is written
 * `scheme[:]//` (no bare-URL link).
 */
export function summaryText(text: string): string {
  return plainLine(text)
    .replace(/</g, '\u2039')
    .replace(/>/g, '\u203a')
    .replace(/\]\s*\(/g, ']\uff08')
    .replace(/\b([a-z][a-z0-9+.-]*):\/\//gi, '$1[:]//')
    .replace(/\bwww\./gi, 'www[.]');
}

/** `\xNN` / `\uNNNN`: how the terminal shows a control or invisible character. */
function shown(c: string): string {
  const code = c.charCodeAt(0);
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * One terminal line: escape sequences, bells, bidi and zero-width characters shown escaped
 * (`\x1b`, `\u202e`: a person sees that something was there), line breaks and tabs as spaces.
 * Idempotent, so text escaped once can pass again.
 */
export function terminalLine(text: string): string {
  return text.replace(LINE_BREAK, ' ').replace(/\t/g, ' ').replace(INVISIBLE, shown).replace(CONTROL, shown);
}

/** Terminal text that keeps its lines (`\n` only); each line as `terminalLine`. */
export function terminalBlock(text: string): string {
  return text.split(LINE_BREAK).map(terminalLine).join('\n');
}

/**
 * Slack mrkdwn of one line: `&`, `<`, `>` escaped as Slack asks (no `<!channel>`, `<@U..>`
 * mention, `<url|text>` link), `@here`/`@channel`/`@everyone` with a full-width at sign (no
 * mention even where plain names are linked).
 */
export function slackText(text: string): string {
  return plainLine(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/@(?=(here|channel|everyone)\b)/gi, '\uff20');
}

/**
 * JSON for the terminal (`--json` output): the same value as `JSON.stringify`, with the control,
 * bidi, zero-width and line-separator characters that JSON leaves raw written as `\\uNNNN`.
 */
export function terminalJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(
    /[\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** A copy of plain data with `fn` applied to every string in it (arrays and plain objects only). */
export function mapStrings<T>(value: T, fn: (s: string) => string): T {
  if (typeof value === 'string') return fn(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => mapStrings(v, fn)) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, fn)])) as T;
  }
  return value;
}
