/**
 * Honest outcomes (issue 19, section 6): a run never reports success for work that did not
 * succeed. Through the real CLI against a `maestro worker` process and the simulated LLM, whose
 * `[sim:revise=N]` directive makes the Boss's review ask for revisions, so tickets escalate with a
 * result that was never accepted on its merits.
 */
import { runCli } from '../helpers/cli';
import { useCliWorker } from '../helpers/worker-process';

const world = useCliWorker('outcomes');

/** A run's CLI, and each test, may take minutes on a loaded machine (2 cores shared by many suites). */
const RUN_MS = 280_000;
jest.setTimeout(300_000);

/** One ticket whose review never accepts it (one attempt per round with --max-revisions 0). */
const NEVER_ACCEPTED = 'Write a short note about green tea [sim:tickets=1] [sim:revise=9]';

interface TicketJson {
  id: string;
  state: string;
  attempts: number;
  error?: string;
  acceptedOverFailures?: boolean;
  overruled?: string;
}
interface StatusJson {
  phase: string;
  outcome?: string;
  error?: string;
  tickets: TicketJson[];
  pendingGates: { id: string; kind: string; reason: string }[];
}

async function statusJson(runId: string): Promise<StatusJson> {
  const res = await runCli(['status', runId, '--json'], world.env);
  if (res.code !== 0) throw new Error(`status ${runId}: exit ${res.code} ${res.stderr}`);
  return JSON.parse(res.stdout) as StatusJson;
}

/** Waits for a pending gate of `kind` other than those in `seen` (the run may not exist yet). */
async function untilGate(runId: string, kind: string, seen: string[] = []): Promise<StatusJson['pendingGates'][0]> {
  for (let i = 0; i < 240; i++) {
    const res = await runCli(['status', runId, '--json'], world.env);
    if (res.code === 0) {
      const gate = (JSON.parse(res.stdout) as StatusJson).pendingGates.find(
        (g) => g.kind === kind && !seen.includes(g.id),
      );
      if (gate) return gate;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`no new ${kind} gate on ${runId}`);
}

describe('--yes never accepts a ticket that was not accepted on its merits', () => {
  it('an escalated ticket is skipped by --yes: the run ends failed (exit 1), the ticket skipped, not accepted', async () => {
    const runId = `yes-escalated-${process.pid}`;
    const res = await runCli(
      ['run', NEVER_ACCEPTED, '--yes', '--max-revisions', '0', '--run-id', runId],
      world.env,
      RUN_MS,
    );
    const out = res.stdout + res.stderr;
    expect(out).toMatch(/Gate ticket:T1#\d+ is waiting: T1 was not accepted/);
    expect(out).toContain('skipped (the ticket was not accepted on its merits; --accept-failing accepts it) by --yes');
    expect(out).not.toMatch(/T1 .*: accepted/);
    expect(out).not.toContain('Result: completed');
    expect(res.code).toBe(1);
    const status = await statusJson(runId);
    expect(status.tickets.map((t) => t.state)).toEqual(['skipped']);
  });

  it('with --accept-failing the ticket is accepted over failing checks: summary, --json and exit code 3 say so', async () => {
    const runId = `accept-failing-${process.pid}`;
    const res = await runCli(
      ['run', NEVER_ACCEPTED, '--yes', '--accept-failing', '--max-revisions', '0', '--run-id', runId],
      world.env,
      RUN_MS,
    );
    const out = res.stdout + res.stderr;
    expect(out).toContain('accepted over failing checks by --yes --accept-failing');
    expect(res.stdout).toContain(
      'Result: partial — 0/1 tickets accepted on their merits, 1 accepted over failing checks (T1)',
    );
    expect(res.stdout).toMatch(/T1 +\S+ +accepted over failing checks/);
    expect(res.stdout).not.toContain('Result: completed');
    expect(res.code).toBe(3);

    const result = await runCli(['result', runId, '--json'], world.env);
    expect(result.code).toBe(3);
    const json = JSON.parse(result.stdout) as {
      status: string;
      tickets: TicketJson[];
      acceptedOverFailures?: string[];
    };
    expect(json.status).toBe('partial');
    expect(json.acceptedOverFailures).toEqual(['T1']);
    const [t1] = json.tickets;
    expect(t1).toMatchObject({ id: 'T1', state: 'accepted', acceptedOverFailures: true });
    expect(t1!.overruled).toMatch(/T1 was not accepted after 1 attempt\(s\).*accepted by .+ at the ticket gate/);
    // (c) An accepted ticket carries no `error`: what it failed is in `overruled`.
    expect(t1).not.toHaveProperty('error');

    const status = await statusJson(runId);
    expect(status.outcome).toBe('partial');
    expect(status.tickets[0]).toMatchObject({ state: 'accepted', acceptedOverFailures: true });
    expect(status.tickets[0]).not.toHaveProperty('error');
    const text = await runCli(['status', runId], world.env);
    expect(text.stdout).toMatch(/T1 +\S+ +accepted over failing checks/);
  });
});

describe('attempt counts agree, a cancelled run reads as cancelled', () => {
  it('the ticket line and the gate count the same attempts: all of the ticket, across its rounds', async () => {
    const runId = `attempts-${process.pid}`;
    const running = runCli(['run', NEVER_ACCEPTED, '--max-revisions', '0', '--run-id', runId], world.env, RUN_MS);
    const first = await untilGate(runId, 'ticket');
    expect(first.reason).toMatch(/^T1 was not accepted after 1 attempt\(s\)/);
    const retry = await runCli(['reject', runId, '--gate', first.id, '--comment', 'try once more'], world.env);
    expect(retry.code).toBe(0);
    const second = await untilGate(runId, 'ticket', [first.id]);
    // Round 2 made one more attempt: the ticket has made 2 in all, and the gate says so.
    expect(second.reason).toMatch(/^T1 was not accepted after 2 attempt\(s\) in all \(1 in this round\)/);
    expect((await runCli(['reject', runId, '--gate', second.id], world.env)).code).toBe(0);
    const res = await running;
    expect(res.stderr).toMatch(/T1 \[\S+\] .*: escalated after 1 attempt\(s\) in all/);
    expect(res.stderr).toMatch(/T1 \[\S+\] .*: escalated after 2 attempt\(s\) in all/);
    expect(res.stderr).not.toMatch(/escalated after \d+ attempt\(s\),/);
  });

  it('a run cancelled while `maestro run` follows it: "was cancelled" (exit 1), status and result say cancelled', async () => {
    const runId = `cancelled-${process.pid}`;
    const running = runCli(
      ['run', 'Write a short note about oolong [sim:tickets=1]', '--final-approval', 'manual', '--run-id', runId],
      world.env,
      RUN_MS,
    );
    await untilGate(runId, 'final');
    expect((await runCli(['cancel', runId], world.env)).code).toBe(0);
    const res = await running;
    expect(res.stderr).toContain(`Run ${runId} was cancelled`);
    expect(res.stderr).not.toMatch(/failed|Workflow cancel/i);
    expect(res.code).toBe(1);

    const status = await statusJson(runId);
    expect(status.phase).toBe('cancelled');
    expect(status.outcome).toBe('cancelled');
    expect(status.error ?? '').not.toMatch(/Workflow cancel/i);
    const text = await runCli(['status', runId], world.env);
    expect(text.stdout).toContain(`Run ${runId}: cancelled`);
    expect(text.stdout).not.toMatch(/Workflow cancel/i);

    const result = await runCli(['result', runId, '--json'], world.env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`Run ${runId} was cancelled`);
    expect((JSON.parse(result.stdout) as { status: string }).status).toBe('cancelled');

    const watch = await runCli(['watch', runId, '--json'], world.env);
    expect(watch.code).toBe(1);
    const end = watch.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; phase?: string; error?: string })
      .find((e) => e.type === 'end');
    expect(end).toMatchObject({ phase: 'cancelled' });
    expect(end?.error ?? '').not.toMatch(/Workflow cancel/i);
  });
});
