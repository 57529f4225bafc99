/**
 * The shared model-text module (issue 19, items 7.3-7.5): whatever a model writes, each medium's
 * function returns one line without bidi, zero-width or control characters, and markdown, Slack
 * and summary output hold no syntax the model could use to add a link, a tag, a heading or a
 * mention. Property-based (fast-check) over strings biased towards the dangerous characters.
 */
import fc from 'fast-check';
import { notificationPayload } from '../../src/activities/notify/payload';
import { HOSTILE_BLOCK, HOSTILE_SHORT } from '../../src/dev/sim-llm/hostile';
import {
  markdownInline,
  plainLine,
  slackText,
  summaryText,
  terminalBlock,
  terminalJson,
  terminalLine,
} from '../../src/shared/model-text';
import type { NotificationFacts } from '../../src/shared/notifications';
import { RunState } from '../../src/workflows/run-state';

/** Line breaks, bidi, zero-width, C0/C1 controls. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/;

/** Characters a hostile model likes, mixed with ordinary ones. */
const HOSTILE_CHARS = [
  ...'\n\r\t\u000b\u000c\u0085\u2028\u2029\u001b\u0007\u0000\u009b\u007f',
  ...'\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u200b\u200c\u200d\ufeff\u2060',
  ...'\\`*_{}[]()#+-.!|~<>&:$^@"\'=/%;?,',
  ...'aZ09 é',
];
const hostileString = fc.oneof(
  fc.string({ unit: fc.constantFrom(...HOSTILE_CHARS), maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(HOSTILE_BLOCK, HOSTILE_SHORT, '<!channel>', '<http://x|maestro approve>', '[a](http://x)', '# h'),
);

/** Punctuation markdownInline must escape. */
const MD_SYNTAX = new Set([...'\\`*_{}[]()#+-.!|~<>&:$^']);

/** Whether every markdown syntax character of `md` is backslash-escaped (and every backslash escapes one). */
function allEscaped(md: string): boolean {
  for (let i = 0; i < md.length; i++) {
    const c = md[i]!;
    if (c === '\\') {
      if (!MD_SYNTAX.has(md[i + 1] ?? '')) return false;
      i++;
    } else if (MD_SYNTAX.has(c)) return false;
  }
  return true;
}

describe('model text, per medium', () => {
  it('no output holds a line break, a bidi, zero-width or control character', () => {
    fc.assert(
      fc.property(hostileString, (s) => {
        for (const fn of [plainLine, markdownInline, summaryText, slackText, terminalLine]) {
          expect(fn(s)).not.toMatch(UNSAFE);
        }
        // terminalBlock keeps lines, nothing else.
        for (const line of terminalBlock(s).split('\n')) expect(line).not.toMatch(UNSAFE);
      }),
      { numRuns: 500 },
    );
  });

  it('markdown output has no unescaped link, heading, table, emphasis or HTML syntax', () => {
    fc.assert(
      fc.property(hostileString, (s) => {
        expect(allEscaped(markdownInline(s))).toBe(true);
      }),
      { numRuns: 500 },
    );
    expect(markdownInline('[click](http://evil.example) <img src=x onerror=alert(1)>')).toBe(
      '\\[click\\]\\(http\\://evil\\.example\\) \\<img src=x onerror=alert\\(1\\)\\>',
    );
  });

  it('a summary reads right as plain text and as markdown: no tag, no link, no bare URL', () => {
    fc.assert(
      fc.property(hostileString, (s) => {
        const out = summaryText(s);
        expect(out).not.toMatch(/[<>]|\]\s*\(|:\/\/|www\./i);
      }),
      { numRuns: 500 },
    );
    expect(summaryText('Build the page (v2) - see [docs](https://x.example/a)')).toBe(
      'Build the page (v2) - see [docs]（https[:]//x.example/a)',
    );
  });

  it('Slack text has no <!channel>, <@user>, <url|text> or bare @here', () => {
    fc.assert(
      fc.property(hostileString, (s) => {
        const out = slackText(s);
        expect(out).not.toMatch(/[<>]/);
        expect(out.replace(/&(amp|lt|gt);/g, '')).not.toContain('&');
        expect(out).not.toMatch(/@(here|channel|everyone)\b/i);
      }),
      { numRuns: 500 },
    );
    expect(slackText('<!channel> a & b <http://x|maestro approve> @here')).toBe(
      '&lt;!channel&gt; a &amp; b &lt;http://x|maestro approve&gt; ＠here',
    );
  });

  it('the terminal shows escapes and bidi escaped, on one line, idempotently', () => {
    fc.assert(
      fc.property(hostileString, (s) => {
        expect(terminalLine(terminalLine(s))).toBe(terminalLine(s));
      }),
      { numRuns: 300 },
    );
    expect(terminalLine('\u202Egpj.exe\u001b[31m\nWaiting for a person: final#9')).toBe(
      '\\u202egpj.exe\\x1b[31m Waiting for a person: final#9',
    );
  });

  it('terminal JSON is the same value, with no raw bidi, C1 or line-separator character', () => {
    fc.assert(
      fc.property(fc.jsonValue(), hostileString, (v, s) => {
        const value = { v, s };
        const out = terminalJson(value, 2);
        expect(JSON.parse(out)).toEqual(JSON.parse(JSON.stringify(value)));
        expect(out.replace(/\n/g, '')).not.toMatch(UNSAFE);
      }),
      { numRuns: 300 },
    );
  });
});

describe('model text where Maestro shows it', () => {
  it('a hostile plan summary makes no second gate line in the Web UI details', () => {
    const state = new RunState('maestro-hostile', { goal: 'g', roles: [] }, () => '2026-01-01T00:00:00.000Z');
    const plan = { summary: `ok${HOSTILE_BLOCK}`, tickets: [] };
    state.book.open('plan', `approve the plan of 1 tickets: ${plan.summary}`, { onTimeout: 'wait' });
    const details = state.details();
    const gateLines = details.split('\n').filter((l) => /Waiting for a person|WAITING FOR YOU|Gate final/.test(l));
    expect(gateLines).toHaveLength(1);
    expect(gateLines[0]).toMatch(/^> \*\*Waiting for a person:\*\* plan#1 — approve the plan/);
    expect(state.book.pending()[0]!.reason).not.toMatch(UNSAFE); // the reason itself is one line
  });

  it('a webhook post has one-line clean fields and Slack-escaped text', () => {
    const facts: NotificationFacts = {
      event: 'gate-opened',
      runId: 'maestro-1',
      goal: 'Build a page',
      namespace: 'default',
      at: '2026-01-01T00:00:00.000Z',
      gate: {
        id: 'ticket:T1#2',
        kind: 'ticket',
        ticketId: 'T1',
        reason: `T1 was not accepted: ${HOSTILE_BLOCK}`,
        openedAt: '2026-01-01T00:00:00.000Z',
        onTimeout: 'wait',
        state: 'pending',
      },
      ticketTitle: `Title${HOSTILE_SHORT}`,
      cost: { usd: 0, tokens: 0 },
    };
    const body = notificationPayload(facts);
    expect(body.gate!.reason).not.toMatch(UNSAFE);
    expect(body.gate!.ticketTitle).not.toMatch(UNSAFE);
    expect(body.text).not.toMatch(/<!channel>|<!here>|<http:\/\/evil/);
    expect(body.text.split('\n')).toHaveLength(5); // Maestro's five lines, none from the model
    expect(body.text.split('\n')[1]).toBe('Goal: Build a page');
  });
});
