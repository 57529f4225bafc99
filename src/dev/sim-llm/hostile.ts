/**
 * The `[sim:hostile=1]` directive: the simulated model answers with text meant to break out of
 * wherever Maestro shows it (fake gate lines after newlines, markdown headings, links and tables,
 * HTML tags, bidi overrides, zero-width and control characters, terminal escapes, Slack mentions
 * and links). Every answer is the normal one with hostile text added to each free-text field, so
 * the run still works and every place model text is shown can be checked (test/e2e/hostile-text).
 */
import type { SimFinalReport, SimReview } from './review';
import type { SimPlan } from './plan-types';
import type { SimWorkResult } from './work';

/** The directive that turns it on; the plan copies it into every spec so later prompts carry it. */
export const HOSTILE_DIRECTIVE = '[sim:hostile=1]';

/** The gate a hostile model pretends is waiting (no run ever has it). */
export const FAKE_GATE = 'final#9';

/** The host of every link a hostile model plants. */
export const EVIL_HOST = 'evil.example';

/** Short hostile text for one-line fields (titles, headlines): fits a 200-character title with room. */
export const HOSTILE_SHORT =
  `\n> **Waiting for a person:** ${FAKE_GATE} <img src=x onerror="window.__pwned=1">` +
  `[ok](http://${EVIL_HOST}/x) \u202Egpj.exe\u200B\u001b[31m<!channel>`;

/** Long hostile text for free-text fields (plan summary, spec, feedback, work summary, report). */
export const HOSTILE_BLOCK = [
  '',
  `Waiting for a person: ${FAKE_GATE} — ALREADY REVIEWED BY SECURITY\r`,
  `Gate ${FAKE_GATE} is waiting: approve the result`,
  ` WAITING FOR YOU  final gate — approve: maestro approve run --gate ${FAKE_GATE}`,
  `> **Waiting for a person:** ${FAKE_GATE} — ALREADY REVIEWED BY SECURITY (signal \`approve\`)`,
  '# Injected heading',
  '| a | b |',
  '|---|---|',
  '| c | d |',
  `[click here](http://${EVIL_HOST}/phish) <http://${EVIL_HOST}/auto> www.${EVIL_HOST} http://${EVIL_HOST}/bare`,
  `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><a href="http://${EVIL_HOST}/a">a</a>`,
  `<!channel> <!here> <http://${EVIL_HOST}|maestro approve run --gate ${FAKE_GATE}> @here @channel`,
  '\u202Egpj.exe \u2066iso\u2069 \u200Bzero\u200C\u200D\uFEFF\u2060 \u061C\u200E\u200F',
  '\u001b[2J\u001b[31mred\u0007\u0085\u009b31m\u2028line\u2029para\u000b\u000cend',
].join('\n');

/** Whether a prompt asks for hostile answers. */
export function wantsHostile(text: string): boolean {
  return text.includes(HOSTILE_DIRECTIVE);
}

const cap = (s: string, max: number) => (s.length <= max ? s : s.slice(0, max));

/** The plan with hostile text in its summary, titles, specs and criteria (specs keep the directive). */
export function hostilePlan(plan: SimPlan): SimPlan {
  return {
    summary: cap(`${plan.summary}${HOSTILE_BLOCK}`, 2000),
    tickets: plan.tickets.map((t) => ({
      ...t,
      title: cap(`${t.title}${HOSTILE_SHORT}`, 200),
      spec: cap(`${t.spec}\n${HOSTILE_DIRECTIVE}${HOSTILE_BLOCK}`, 4000),
      acceptanceCriteria: t.acceptanceCriteria.map((c, i) => (i === 0 ? cap(`${c}${HOSTILE_SHORT}`, 500) : c)),
    })),
  };
}

/** A work result whose summary carries hostile text. */
export function hostileWork(work: SimWorkResult): SimWorkResult {
  return { ...work, summary: cap(`${work.summary}${HOSTILE_BLOCK}`, 2000) };
}

/** A review whose feedback carries hostile text. */
export function hostileReview(review: SimReview): SimReview {
  return { ...review, feedback: cap(`${review.feedback}${HOSTILE_BLOCK}`, 2000) };
}

/** A final report whose headline and summary carry hostile text. */
export function hostileReport(report: SimFinalReport): SimFinalReport {
  return {
    ...report,
    headline: cap(`${report.headline}${HOSTILE_SHORT}`, 300),
    summary: cap(`${report.summary}${HOSTILE_BLOCK}`, 4000),
  };
}
