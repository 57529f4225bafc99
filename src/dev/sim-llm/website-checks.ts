/**
 * The simulated Tester's deliverables for a page: one list of checks, evaluated here for the
 * report against the files the tester was shown, and written out as a runnable plain-Node
 * script (`tests/check-page.mjs`) so the same checks can be run on the real output.
 */
import type { ShownFile } from './prompt-parse';
import type { Subject } from './subject';

/** One check of index.html: a regular expression that must (or, with `max`, may at most) match. */
export interface PageCheck {
  name: string;
  source: string;
  flags: string;
  /** For counted checks: the exact number of matches wanted. */
  count?: number;
}

function literal(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The checks the tester runs on index.html. */
export function pageChecks(subject: Subject): PageCheck[] {
  const name = subject.name.replace(/&/g, '&amp;');
  return [
    { name: 'has the HTML5 doctype', source: '^\\s*<!doctype html>', flags: 'i' },
    { name: 'declares the language on <html>', source: '<html[^>]*\\slang="[^"]+"', flags: 'i' },
    { name: 'declares a charset', source: '<meta[^>]*charset=', flags: 'i' },
    { name: 'has a viewport meta tag', source: '<meta[^>]*name="viewport"', flags: 'i' },
    { name: 'has a non-empty <title>', source: '<title>[^<]+</title>', flags: 'i' },
    { name: 'links styles.css', source: '<link[^>]*href="styles\\.css"', flags: 'i' },
    { name: 'loads script.js', source: '<script[^>]*src="script\\.js"', flags: 'i' },
    { name: 'has exactly one <h1>', source: '<h1[\\s>]', flags: 'gi', count: 1 },
    { name: `names ${subject.name}`, source: literal(name), flags: '' },
  ];
}

/** Runs one check on a text (as the generated script does). */
export function runCheck(check: PageCheck, html: string): boolean {
  const re = new RegExp(check.source, check.flags);
  if (check.count !== undefined) return (html.match(re) ?? []).length === check.count;
  return re.test(html);
}

/** A check no page passes (`[sim:failing-test=1]`): a Tester whose test always fails. */
const NEVER_PASSES: PageCheck = { name: 'has the marker no page has', source: 'sim-never-present-marker', flags: '' };

/**
 * `tests/check-page.mjs`: plain Node, reads ../index.html next to itself, exits 1 on failure;
 * `failing` adds a check no page passes.
 */
export function buildCheckScript(subject: Subject, failing = false): string {
  const checks = [...pageChecks(subject), ...(failing ? [NEVER_PASSES] : [])]
    .map((c) => `  ${JSON.stringify(c)},`)
    .join('\n');
  return `// Checks index.html of the ${subject.name} website. Run: node tests/check-page.mjs
// Plain Node (no dependencies). Exits with code 1 when a check fails.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const file = fileURLToPath(new URL('../index.html', import.meta.url));
let html;
try {
  html = readFileSync(file, 'utf8');
} catch (err) {
  console.error(\`FAIL cannot read \${file}: \${err.message}\`);
  process.exit(1);
}

const checks = [
${checks}
];

let failed = 0;
for (const check of checks) {
  const re = new RegExp(check.source, check.flags);
  const ok = check.count !== undefined ? (html.match(re) || []).length === check.count : re.test(html);
  if (!ok) failed++;
  console.log(\`\${ok ? 'PASS' : 'FAIL'} \${check.name}\`);
}
console.log(\`\${checks.length - failed}/\${checks.length} checks passed\`);
process.exit(failed > 0 ? 1 : 0);
`;
}

/** `TEST-REPORT.md`: each check with its result on the shown index.html, and the criteria. */
export function buildPageReport(subject: Subject, criteria: readonly string[], shown: readonly ShownFile[]): string {
  const page = shown.find((f) => f.path === 'index.html' || f.path.endsWith('/index.html'));
  const lines: string[] = [`# Test report — ${subject.name} website`, ''];
  let failed = 0;
  if (page) {
    lines.push(
      `Checked \`${page.path}\`${page.truncated ? ' (an excerpt: checks that fail there are marked "not visible" and must be confirmed with the script)' : ''}.`,
      '',
    );
    lines.push('| Check | Result |', '| --- | --- |');
    for (const c of pageChecks(subject)) {
      const ok = runCheck(c, page.text);
      const result = ok ? 'PASS' : page.truncated ? 'not visible in excerpt' : 'FAIL';
      if (!ok && !page.truncated) failed++;
      lines.push(`| ${c.name} | ${result} |`);
    }
  } else {
    lines.push(
      'No index.html was handed to this ticket, so the checks could not be run here; run the script on the output folder.',
    );
  }
  const others = shown.filter((f) => f !== page).map((f) => `\`${f.path}\``);
  if (others.length > 0) lines.push('', `Other files seen: ${others.join(', ')}.`);
  lines.push('', '## Acceptance criteria', '');
  for (const c of criteria) lines.push(`- ${c}: covered by \`tests/check-page.mjs\` and this report.`);
  lines.push('', '## How to run', '', '```', 'node tests/check-page.mjs', '```', '');
  lines.push(`Result: ${page ? (failed === 0 ? 'all checks pass' : `${failed} check(s) fail`) : 'not run'}.`, '');
  return lines.join('\n');
}
