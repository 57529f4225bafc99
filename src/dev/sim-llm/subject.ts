/**
 * Small text helpers shared by the generators: test directives in goals (`[sim:...]`), the
 * subject of a goal (business name and kind), deliverable paths named in a spec, slugs.
 * All pure and deterministic.
 */
import { filePathProblem } from '../../shared/file-path';

/** What the goal or page is about. */
export interface Subject {
  name: string;
  kind: string;
}

/**
 * Test hooks written into a goal: `[sim:tickets=N]`, `[sim:width=W]` (tickets per layer of a
 * `tickets` plan; W >= N makes every ticket independent), `[sim:invalid-plan=K]`, `[sim:revise=N]`,
 * `[sim:failing-test=1]` (the Tester's check script has one more check no page passes, so its test keeps failing),
 * `[sim:epics=E]` (a plan of E epics for sub-Bosses when the schema offers the `boss` role),
 * `[sim:hostile=1]` (hostile free text in every answer; see hostile.ts, matched there, not here).
 */
export interface Directives {
  tickets?: number;
  width?: number;
  invalidPlan?: number;
  revise?: number;
  failingTest?: number;
  /** `[sim:bad-tool-call=1]`: the Tester's first page check names a 200+ character garbage path. */
  badToolCall?: number;
  /** Epics of the top plan when the Boss may plan them (each gets the `tickets`/`width` directives). */
  epics?: number;
}

/** Parses the `[sim:key=N]` directives of a text. */
export function directivesOf(text: string): Directives {
  const d: Directives = {};
  for (const m of text.matchAll(/\[sim:([a-z-]+)=(\d+)\]/g)) {
    const n = Number(m[2]);
    if (m[1] === 'tickets') d.tickets = n;
    else if (m[1] === 'width') d.width = n;
    else if (m[1] === 'invalid-plan') d.invalidPlan = n;
    else if (m[1] === 'revise') d.revise = n;
    else if (m[1] === 'failing-test') d.failingTest = n;
    else if (m[1] === 'bad-tool-call') d.badToolCall = n;
    else if (m[1] === 'epics') d.epics = n;
  }
  return d;
}

/** The text without its `[sim:...]` directives and with collapsed white space. */
export function stripDirectives(text: string): string {
  return text
    .replace(/\[sim:[^\]]*\]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

const WEBSITE_RE = /(?<!\d[- ])\b(web ?sites?|web ?pages?|landing ?pages?|sites?|home ?pages?|pages?|html)\b/i;

/** Whether a goal or spec asks for a web page. */
export function isWebsiteText(text: string): boolean {
  return WEBSITE_RE.test(stripDirectives(text));
}

const CODE_RE = /\b(code|script|cli|api|function|program|library|tool|module|command[- ]line|app)\b/i;

/** Whether a goal asks for code. */
export function isCodeText(text: string): boolean {
  return CODE_RE.test(stripDirectives(text));
}

function titleCase(s: string): string {
  return s.replace(/\b[a-z]/g, (c) => c.toUpperCase());
}

const W = "[\\p{L}\\p{N}'’&.\\-]";
const CAP = '[\\p{Lu}\\p{N}]';
const KIND = "([\\p{L}][\\p{L}&'’ \\-]{1,40}?)";
const CALLED_RE = new RegExp(
  `\\b(?:called|named)\\s+["“‘']?(${CAP}${W}*(?:\\s+(?:${CAP}${W}*|&|of|the|and|de|la|du))*)`,
  'u',
);
const KIND_RE = new RegExp(
  `\\bfor\\s+(?:a|an|the|my|our|his|her|their)\\s+(?:(?:new|small|local|family|neighbourhood|neighborhood)\\s+)*${KIND}(?=\\s+(?:called|named|in|at|on|that|which|with|where|who|run|owned|and|near)\\b|\\s*["“'‘(,.;:!?]|$)`,
  'iu',
);
const FOR_NAME_RE = new RegExp(`\\bfor\\s+(\\p{Lu}${W}*(?:\\s+\\p{Lu}${W}*)+)`, 'u');
const AFTER_KIND_NAME_RE = new RegExp(`^\\s*,\\s*(\\p{Lu}${W}*(?:\\s+\\p{Lu}${W}*)*)`, 'u');
const APPOSITION_KIND_RE = new RegExp(
  `^\\s*,\\s*(?:an?|the)\\s+${KIND}(?=\\s*[,.;:!?]|\\s+(?:in|at|who|with|and)\\b|$)`,
  'iu',
);

/** The business name and kind a goal talks about, with sensible fallbacks. */
export function deriveSubject(text: string): Subject {
  const goal = stripDirectives(text);
  const quoted = /["“‘]([^"”’]{2,60})["”’]/.exec(goal)?.[1] ?? /\s'([^']{2,60})'/.exec(goal)?.[1];
  const called = CALLED_RE.exec(goal)?.[1];
  const kindMatch = KIND_RE.exec(goal);
  let kind = kindMatch?.[1]?.trim().toLowerCase();
  const forName = FOR_NAME_RE.exec(goal)?.[1];
  const afterKind = kindMatch
    ? AFTER_KIND_NAME_RE.exec(goal.slice(kindMatch.index + kindMatch[0].length))?.[1]
    : undefined;
  let name = (called ?? quoted ?? forName ?? afterKind)?.replace(/[.,;:!?]+$/, '').trim();
  if (kind && /^(web ?site|web ?page|landing page|site|page|home ?page)$/.test(kind)) kind = undefined;
  if (!kind && forName)
    kind = APPOSITION_KIND_RE.exec(goal.slice(goal.indexOf(forName) + forName.length))?.[1]?.toLowerCase();
  if (!kind) kind = forName && !called && !quoted ? 'personal website' : 'small business';
  if (!name) name = kind === 'small business' ? 'Our Business' : titleCase(kind);
  return { name: clip(name, 80), kind: clip(kind, 60) };
}

/** `Subject: NAME, a KIND.` — the line plans put into specs so workers know the subject. */
export function subjectLine(s: Subject): string {
  return `Subject: ${s.name}, ${/^[aeiou]/i.test(s.kind) ? 'an' : 'a'} ${s.kind}.`;
}

/** The subject named in a spec (its `Subject:` line), else derived from the spec text. */
export function subjectOfSpec(spec: string): Subject {
  const m = /^Subject: (.+), an? (.+)\.$/m.exec(spec);
  if (m?.[1] && m[2]) return { name: m[1], kind: m[2] };
  return deriveSubject(spec);
}

/** Whether a string is an acceptable produced-file path (same rule as `ProducedFile`) with an extension. */
export function isFilePath(p: string): boolean {
  return filePathProblem(p) === undefined && /\.[A-Za-z0-9]+$/.test(p);
}

/** Paths in backticks on the spec's `Deliver ...` lines, in order, without duplicates. */
export function deliverablesOf(spec: string): string[] {
  const out: string[] = [];
  for (const line of spec.split('\n')) {
    if (!/\bdeliver/i.test(line)) continue;
    for (const m of line.matchAll(/`([^`\s]+)`/g)) {
      const p = m[1] ?? '';
      if (isFilePath(p) && !out.includes(p)) out.push(p);
    }
  }
  return out;
}

/** Lower-case dash-separated words of a text, at most `max` characters. */
export function slugOf(text: string, max = 30): string {
  const slug = stripDirectives(text)
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  const cut = slug.slice(0, max).replace(/-+$/, '');
  return cut || 'work';
}

/** The first sentence of a text, at most `max` characters. */
export function firstSentence(text: string, max = 120): string {
  const t = stripDirectives(text);
  const m = /^(.+?[.!?])(\s|$)/.exec(t);
  return clip(m?.[1] ?? t, max);
}

/** The text cut to `max` characters, with an ellipsis when cut. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1)).trimEnd()}…`;
}

/** A small deterministic hash of a string (for picking palettes and the like). */
export function hashOf(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}
