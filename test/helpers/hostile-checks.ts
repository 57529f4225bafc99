/**
 * What a person must never see from model text, as checks the hostile-text tests share: a line
 * that starts like one of Maestro's gate lines, a bidi/zero-width/control character, an element
 * (image, script, link, heading, table) made from model text in a rendered page, Slack syntax
 * that pings or links in a webhook post.
 */
import type { FrameLocator, Page } from 'playwright-core';
import { EVIL_HOST, FAKE_GATE } from '../../src/dev/sim-llm/hostile';

/** Characters that reorder, hide or control text (C0 but tab/newline, DEL, C1, bidi, zero-width, line separators). */
export const UNSAFE_CHARS =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

/** How Maestro's own gate lines start (terminal, Web UI details, webhook text). */
const GATE_LINE_START =
  /^\s*(?:>\s*)?(?:\*\*)?\s*(?:Waiting for a person|Waiting for approval|WAITING FOR YOU|Gate \S+ is waiting|approve:|Approve:|Decide from)/i;

/**
 * Lines that start like a gate line and name, before Maestro's ` — ` separator, the gate only a
 * hostile model invents: a real gate line names its own gate first and quotes model text after.
 */
export function fakeGateLines(text: string): string[] {
  return text.split(/\r\n|[\n\r\u2028\u2029\u0085\u000b\u000c]/).filter((l) => {
    if (!GATE_LINE_START.test(l)) return false;
    const named = /\b(?:plan|final|budget|ticket(?::T\d+)?)#\d+/.exec(l.split(' — ')[0] ?? '')?.[0];
    return named === FAKE_GATE;
  });
}

/** Problems of terminal output: fake gate lines, unsafe characters, raw escape sequences. */
export function terminalProblems(where: string, text: string): string[] {
  const out: string[] = [];
  for (const l of fakeGateLines(text)) out.push(`${where}: a fake gate line from model text: ${JSON.stringify(l)}`);
  const m = UNSAFE_CHARS.exec(text);
  if (m)
    out.push(
      `${where}: an unsafe character U+${m[0].charCodeAt(0).toString(16)} near ${JSON.stringify(text.slice(Math.max(0, m.index - 30), m.index + 10))}`,
    );
  return out;
}

/** Every string in a JSON value, with its path. */
function strings(value: unknown, path = '$'): [string, string][] {
  if (typeof value === 'string') return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, `${path}[${i}]`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => strings(v, `${path}.${k}`));
  return [];
}

/** Problems of one webhook body: Slack mentions and links from model text, unsafe characters, fake gate lines. */
export function webhookProblems(body: unknown): string[] {
  const out: string[] = [];
  for (const [path, s] of strings(body)) {
    if (UNSAFE_CHARS.test(s)) out.push(`${path} has an unsafe character: ${JSON.stringify(s.slice(0, 200))}`);
    if (path !== '$.text' && /[\n\r]/.test(s)) out.push(`${path} is not one line: ${JSON.stringify(s.slice(0, 200))}`);
  }
  const text = (body as { text?: unknown }).text;
  if (typeof text === 'string') {
    if (/<!(channel|here|everyone)/.test(text)) out.push(`text pings: ${JSON.stringify(text.slice(0, 300))}`);
    if (new RegExp(`<[^>\\s]*${EVIL_HOST.replace('.', '\\.')}`).test(text))
      out.push(`text links to ${EVIL_HOST}: ${JSON.stringify(text.slice(0, 300))}`);
    if (/(^|\s)@(here|channel|everyone)\b/.test(text)) out.push(`text has a bare @here/@channel`);
    for (const l of fakeGateLines(text)) out.push(`text has a fake gate line: ${JSON.stringify(l)}`);
  }
  return out;
}

type Scope = Page | FrameLocator;

/** The page's text as shown, without its CodeMirror payload viewers (a string: runs in the browser). */
const TEXT_WITHOUT_PAYLOAD_VIEWERS = `(() => {
  const viewers = [...document.querySelectorAll('.cm-editor')];
  for (const v of viewers) v.style.setProperty('display', 'none', 'important'); // CodeMirror sets display: flex !important
  const text = document.body.innerText;
  for (const v of viewers) v.style.removeProperty('display');
  return text;
})()`;

/** Problems of one rendered document (the page itself or one of its frames). */
async function scopeProblems(where: string, scope: Scope, isFrame: boolean): Promise<string[]> {
  const out: string[] = [];
  const count = async (selector: string) => scope.locator(selector).count();
  const evil = await scope
    .locator(`a[href*="${EVIL_HOST}"], img[src="x"], [onerror*="__pwned"], iframe[src*="://${EVIL_HOST}"]`)
    .evaluateAll((els) =>
      els.map((e) => `${e.outerHTML.slice(0, 160)} in ${e.parentElement?.outerHTML.slice(0, 160) ?? '?'}`),
    );
  if (evil.length > 0)
    out.push(`${where}: ${evil.length} link/image element(s) made from model text: ${evil.join(' | ')}`);
  const scripts = await scope
    .locator('script')
    .evaluateAll((els) => els.filter((e) => (e.textContent ?? '').includes('__pwned')).length)
    .catch(() => 0);
  if (scripts > 0) out.push(`${where}: ${scripts} <script> element(s) from model text`);
  if (isFrame) {
    // Maestro's own markdown has no links or headings; model text must not add them.
    const links = await count('a');
    if (links > 0) out.push(`${where}: ${links} link(s) in Maestro's metadata`);
    const headings = await scope
      .locator('h1, h2, h3, h4, h5, h6')
      .filter({ hasText: /Injected/ })
      .count();
    if (headings > 0) out.push(`${where}: a heading made from model text`);
    const cells = await scope
      .locator('td, th')
      .filter({ hasText: /^\s*[abcd]\s*$/ })
      .count();
    if (cells > 0) out.push(`${where}: a table made from model text`);
  }
  // The page's payload viewers (CodeMirror: a workflow's input and result as JSON) are Temporal's
  // view of the data as stored, not Maestro's words: their text is left out of the line checks.
  const text = isFrame
    ? ((await scope
        .locator('body')
        .first()
        .innerText()
        .catch(() => '')) ?? '')
    : String(await (scope as Page).evaluate(TEXT_WITHOUT_PAYLOAD_VIEWERS));
  out.push(...terminalProblems(where, text));
  return out;
}

/** Problems of a Temporal Web UI page and its user-metadata frames, as the browser shows them. */
export async function pageProblems(page: Page, where: string): Promise<string[]> {
  const out = await scopeProblems(where, page, false);
  const pwned = await page.evaluate(() => (globalThis as unknown as { __pwned?: unknown }).__pwned);
  if (pwned !== undefined) out.push(`${where}: model script ran (window.__pwned = ${JSON.stringify(pwned)})`);
  const ids = await page.locator('iframe[id]').evaluateAll((els) => els.map((e) => e.id));
  for (const id of ids) out.push(...(await scopeProblems(`${where} #${id}`, page.frameLocator(`#${id}`), true)));
  return out;
}
