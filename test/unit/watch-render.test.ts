/**
 * The `maestro watch` screen as a person reads it: progress, one row per ticket with its live
 * state, attempt, tokens and cost, gates waiting for them with the exact commands to approve,
 * and lines that always fit the terminal.
 */
import { approveHints, shellQuote } from '../../src/client/watch/approve-hints';
import { duration, fitLine, renderWatch, type WatchSnapshot } from '../../src/client/watch/render';
import { planGate, progress, status, ticket } from '../helpers/status-fixtures';

const NOW = new Date('2026-11-25T13:01:12.000Z');
const STARTED = new Date('2026-11-25T13:00:00.000Z');

function snap(extra: Partial<WatchSnapshot> = {}): WatchSnapshot {
  return { status: status(), progress: {}, execution: 'RUNNING', startedAt: STARTED, ...extra };
}

const twelve = () =>
  Array.from({ length: 12 }, (_, i) => {
    const id = `T${i + 1}`;
    return i < 5 ? ticket(id, 'accepted') : i < 8 ? ticket(id, 'running') : ticket(id, 'pending');
  });

describe('renderWatch', () => {
  it('shows the run, the elapsed time, the goal and that the Boss is planning before there are tickets', () => {
    const lines = renderWatch(snap({ status: status({ phase: 'planning', planSummary: undefined }) }), { now: NOW });
    expect(lines[0]).toBe('Maestro run-1 · planning · 1m 12s');
    expect(lines[1]).toBe('Goal: Write a set of short guides');
    expect(lines[2]).toContain('the Boss is planning (attempt 1)');
    expect(lines.join('\n')).toContain('Ctrl-C stops watching; the run goes on.');
  });

  it('draws a progress bar and one row per ticket with role, live state, attempt, tokens and cost', () => {
    const s = status({ tickets: twelve() });
    const lines = renderWatch(snap({ status: s, progress: { T6: progress('T6', 2, 'reviewing') } }), {
      now: NOW,
      width: 120,
    });
    const text = lines.join('\n');
    expect(text).toMatch(/\[█+░+\] 5\/12 done · 3 running · 4 pending {3}\$0\.0100 · 5,000 tokens/);
    expect(text).toContain('Plan: Twelve short guides, one per ticket');
    expect(text).toMatch(/ID +ROLE +STATE +TRY +TOKENS +COST +TITLE/);
    const row = (id: string) => lines.find((l) => l.startsWith(`  ${id} `))!;
    expect(row('T1')).toMatch(/^ {2}T1 +writer +✓ accepted +1 +1,000 +\$0\.0020 +Write guide T1$/);
    // T6 runs its second attempt and is being reviewed: the child's own progress shows through.
    expect(row('T6')).toMatch(/T6 +writer +● reviewing +2 +800 +\$0\.0015 +Write guide T6/);
    expect(row('T7')).toMatch(/T7 +writer +● running +- +- +- +Write guide T7/);
    expect(row('T12')).toMatch(/T12 +writer +○ pending +- +- +- +Write guide T12/);
    expect(lines.filter((l) => /^ {2}T\d+ /.test(l))).toHaveLength(12);
  });

  it('highlights a gate waiting for a person with the exact commands that approve it', () => {
    const s = status({ phase: 'planning', pendingGates: [planGate()], tickets: [] });
    const text = renderWatch(snap({ status: s }), { now: NOW, width: 200 }).join('\n');
    expect(text).toContain('planning · waiting for approval');
    expect(text).toContain(
      'WAITING FOR YOU  plan gate since 13:00:05 — The plan has 4 tickets; approve it to start them',
    );
    expect(text).toContain("approve: maestro approve run-1 --gate 'plan#1'");
    expect(text).toContain(
      `or: temporal workflow signal --workflow-id run-1 --name approve --input '{"gate":"plan#1","by":"<you>"}'`,
    );
  });

  it('marks the ticket of a ticket gate and names it in the commands', () => {
    const gate = planGate({ id: 'ticket:T3#1', kind: 'ticket', ticketId: 'T3', reason: 'T3 was not accepted' });
    const s = status({ tickets: [ticket('T3', 'escalated')], pendingGates: [gate] });
    const lines = renderWatch(snap({ status: s }), { now: NOW, width: 200, namespace: 'prod' });
    expect(lines.find((l) => l.startsWith('  T3 '))).toContain('! needs you');
    expect(lines.join('\n')).toContain("maestro approve run-1 --gate 'ticket:T3#1'");
    expect(lines.join('\n')).toContain(
      `temporal workflow signal --namespace prod --workflow-id run-1 --name approve --input '{"gate":"ticket:T3#1","by":"<you>"}'`,
    );
  });

  it('never cuts the approve commands, however narrow the terminal: wraps them between words, within the width', () => {
    const s = status({ phase: 'planning', pendingGates: [planGate()] });
    const lines = renderWatch(snap({ status: s }), { now: NOW, width: 60 });
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(60);
    const at = lines.findIndex((l) => l.startsWith('       or: '));
    const command = lines
      .slice(at, at + 3)
      .map((l) => l.slice(11).replace(/ \\$/, ''))
      .join(' ');
    expect(command).toBe(
      `temporal workflow signal --workflow-id run-1 --name approve --input '{"gate":"plan#1","by":"<you>"}'`,
    );
    expect(lines.find((l) => l.includes('WAITING FOR YOU'))!.length).toBeLessThanOrEqual(60);
  });

  it('cuts every line to the terminal width and uses no escape codes without colour', () => {
    const s = status({ goal: 'x'.repeat(300), tickets: twelve() });
    const lines = renderWatch(snap({ status: s }), { now: NOW, width: 60 });
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(60);
    expect(lines[1]).toMatch(/^Goal: x+…$/);
    expect(lines.join('')).not.toContain('\u001b[');
  });

  it('colours states when asked to', () => {
    const lines = renderWatch(snap({ status: status({ tickets: twelve() }) }), { now: NOW, color: true });
    expect(lines.join('\n')).toContain('\u001b[32m'); // green for accepted
  });

  it('keeps active tickets in view and counts the rest when the terminal is short', () => {
    const tickets = Array.from({ length: 40 }, (_, i) =>
      ticket(`T${i + 1}`, i < 30 ? 'accepted' : i === 35 ? 'running' : 'pending'),
    );
    const lines = renderWatch(snap({ status: status({ tickets }) }), { now: NOW, height: 20 });
    expect(lines.length).toBeLessThanOrEqual(20);
    expect(lines.some((l) => l.startsWith('  T36 '))).toBe(true);
    expect(lines.join('\n')).toMatch(/… \d+ more: \d+ accepted/);
  });

  it('keeps its header on an 80x24 terminal with 60 tickets and a waiting gate (log-update adds a final newline)', () => {
    const tickets = Array.from({ length: 60 }, (_, i) =>
      ticket(`T${i + 1}`, i < 20 ? 'accepted' : i < 24 ? 'running' : 'pending'),
    );
    const gate = { ...planGate(), kind: 'ticket' as const, id: 'ticket:T21#1', ticketId: 'T21' };
    for (const pendingGates of [[], [gate]]) {
      const lines = renderWatch(snap({ status: status({ tickets, pendingGates }), note: 'a note' }), {
        now: NOW,
        width: 80,
        height: 24,
        uiUrl: 'http://localhost:8233/namespaces/default/workflows/run-1',
      });
      // Rows on screen: long approve commands wrap; the cursor then rests on one more row.
      const rows = lines.reduce((n, l) => n + Math.max(1, Math.ceil(l.length / 80)), 0) + 1;
      expect(rows).toBeLessThanOrEqual(24);
      expect(lines[0]).toMatch(/^Maestro run-1 · executing/);
      expect(lines.join('\n')).toMatch(/… \d+ more: /);
    }
  });

  it('ends with the outcome once the run has closed', () => {
    const tickets = twelve().map((t) => ticket(t.id, 'accepted'));
    const s = status({ phase: 'completed', tickets });
    const closed = new Date('2026-11-25T13:02:03.000Z');
    const lines = renderWatch(snap({ status: s, execution: 'COMPLETED', closedAt: closed }), { now: NOW });
    expect(lines.at(-1)).toBe('Run completed in 2m 03s — 12/12 tickets accepted, $0.0240, 12,000 tokens');
    expect(lines.join('\n')).not.toContain('Ctrl-C');

    const failed = renderWatch(
      snap({ status: status({ phase: 'failed', error: 'bad key' }), execution: 'FAILED', closedAt: closed }),
      { now: NOW },
    );
    expect(failed.at(-1)).toBe('Run failed in 2m 03s: bad key');
  });

  it('says when no worker answers for the run', () => {
    const lines = renderWatch(snap({ note: 'No worker answers for this run right now' }), { now: NOW });
    expect(lines).toContain('No worker answers for this run right now');
  });
});

describe('helpers', () => {
  it('formats durations', () => {
    expect([duration(4200), duration(72_000), duration(3_725_000)]).toEqual(['4s', '1m 12s', '1h 02m']);
  });

  it('fits segments into a width with an ellipsis', () => {
    expect(fitLine([['abc'], ['defgh']], 6)).toBe('abcde…');
    expect(fitLine([['abc'], ['de']], 6)).toBe('abcde');
  });

  it('quotes shell words only when needed', () => {
    expect(shellQuote('maestro-20261125-1300-ab12')).toBe('maestro-20261125-1300-ab12');
    expect(shellQuote("it's mine")).toBe(`'it'\\''s mine'`);
    expect(approveHints('my run', { kind: 'final' }).maestro).toBe(`maestro approve 'my run' --gate final`);
  });
});
