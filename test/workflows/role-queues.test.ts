/**
 * A role whose own task queue nobody polls: the run does not hang silently. The role's work times
 * out waiting for a worker (schedule-to-start) and the run opens a ticket gate that names the
 * queue and the command that starts a worker; a person can skip the ticket and the run ends.
 */
import { unpolledRoleQueueWarnings } from '../../src/client/role-queues';
import { waitForStatus } from '../helpers/runs';
import { useRunWorker } from '../helpers/run-worker';
import { TEST_ROLES, uniqueQueue, useSimAndTemporal } from '../helpers/temporal';

const harness = useSimAndTemporal({ port: 0 });
const env = useRunWorker(harness, 'role-queues');

describe('a role queue without a worker', () => {
  it('opens a ticket gate that says which queue has no worker and how to start one', async () => {
    const lonely = uniqueQueue('nobody-polls');
    const roles = TEST_ROLES.map((r) => (r.name === 'writer' ? { ...r, taskQueue: lonely } : r));
    const runId = await env.api.start('Build a landing page for a coffee shop called Bean There', {
      runId: `role-queues-${Date.now()}`,
      roles,
      queueWaitMs: 1500,
    });
    const s = await waitForStatus(
      harness.conn.client,
      runId,
      (st) => st.pendingGates.some((g) => g.kind === 'ticket'),
      30_000,
      'a ticket gate for the writer ticket',
    );
    const gate = s.pendingGates.find((g) => g.kind === 'ticket')!;
    const ticket = s.tickets.find((t) => t.id === gate.ticketId)!;
    expect(ticket.role).toBe('writer');
    expect(ticket.state).toBe('failed');
    expect(gate.reason).toContain(`no worker polls task queue "${lonely}" of role writer`);
    expect(gate.reason).toContain('maestro worker --roles writer');
    await env.api.decide(runId, { gate: 'ticket', ticketId: ticket.id, decision: 'skip', by: 'ops' });
    const r = await env.api.result(runId);
    expect(r.tickets.find((t) => t.id === ticket.id)!.state).toBe('skipped');
  });
});

describe('the warning of `maestro run` and `watch`', () => {
  it('names each role queue nobody polls and the command that starts its worker, and nothing else', async () => {
    const lonely = uniqueQueue('nobody-polls');
    const roles = TEST_ROLES.map((r) =>
      r.name === 'writer' ? { ...r, taskQueue: lonely } : r.name === 'coder' ? { ...r, taskQueue: env.taskQueue } : r,
    );
    const warnings = await unpolledRoleQueueWarnings({ client: harness.conn.client, namespace: 'default', roles });
    expect(warnings).toEqual([
      `Warning: no worker polls task queue "${lonely}" (role writer): those tickets wait, then stop at a ticket gate. Start one with \`maestro worker --roles writer\`.`,
    ]);
    expect(
      await unpolledRoleQueueWarnings({ client: harness.conn.client, namespace: 'default', roles: TEST_ROLES }),
    ).toEqual([]);
  });
});
