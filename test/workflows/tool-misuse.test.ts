/**
 * A checking agent's own mistake is never evidence against the ticket it checks (issue 19, item
 * 2.5): on the suite's Temporal dev server with the real activities, real Chromium and the
 * simulated LLM, a Tester whose first page check names a 225-character garbage path gets a tool
 * error it can read, its real check then passes, and the Coder's accepted ticket is not re-opened.
 */
import { SCHEMA_NAMES } from '../../src/shared/constants';
import { MaestroClient } from '../../src/client/api';
import { GARBAGE_PAGE } from '../../src/dev/sim-llm/agent';
import type { AgentSettings } from '../../src/shared/tools';
import type { RoleInfo } from '../../src/shared/types';
import { testDeps, testWorker, uniqueQueue, TEST_ROLES, useSimAndTemporal } from '../helpers/temporal';

const harness = useSimAndTemporal({ port: 0 });

const CODER: AgentSettings = { tools: ['list_files', 'read_file', 'write_file', 'check_page'] };
// No run_command: the Tester's only checks are page checks, so nothing else can fail.
const TESTER: AgentSettings = { tools: ['list_files', 'read_file', 'write_file', 'check_page'] };
const roles: RoleInfo[] = TEST_ROLES.map((r) =>
  r.name === 'coder' ? { ...r, agent: CODER } : r.name === 'tester' ? { ...r, agent: TESTER } : r,
);

test("a Tester's malformed check_page call is a tool error for the Tester, not a failing check: the Coder is not re-opened", async () => {
  harness.sim.clearRequests();
  const taskQueue = uniqueQueue('tool-misuse');
  const worker = await testWorker(harness.conn.nativeConnection, taskQueue, testDeps(harness.sim.baseUrl));
  const api = new MaestroClient(harness.conn.client, taskQueue);
  const runId = `${taskQueue}-run`;
  const result = await worker.runUntil(async () => {
    await api.start('Build a landing page for a tea room called Leaf Lounge [sim:bad-tool-call=1]', {
      runId,
      roles,
      maxReopens: 2,
      // Before the fix the Tester ends at a ticket gate: reject it at once instead of waiting.
      gatePolicies: { ticket: { timeoutMs: 1000, onTimeout: 'reject' } },
    });
    return api.result(runId);
  });
  const calls = result.toolCalls ?? [];
  const garbage = calls.filter((c) => c.tool === 'check_page' && c.summary.startsWith('check_page x/x/'));
  // The Tester made the malformed call; it is recorded as not run, by the agent's own mistake.
  expect(garbage).toHaveLength(1);
  expect(garbage[0]).toMatchObject({ ticketId: 'T4', status: 'error', notRun: 'invalid-call' });
  // The Tester read a tool error that says what is wrong and that the tool did not run.
  const told = harness.sim
    .requests()
    .flatMap((q) => q.messages)
    .find((m) => m.role === 'tool' && m.content.includes('path longer than 200 characters'));
  expect(told?.content).toMatch(
    /^ERROR: check_page: path longer than 200 characters\n\(the tool did not run: fix this call; it says nothing about the work being checked\)$/,
  );
  // Nobody was sent back: the Coder's ticket was accepted once and never re-opened.
  expect(result.audit.filter((a) => a.action === 'reopen')).toEqual([]);
  expect(result.tickets.find((t) => t.id === 'T3')).toMatchObject({ state: 'accepted', attempts: 1 });
  expect(result.tickets.find((t) => t.id === 'T3')?.reopened ?? 0).toBe(0);
  expect(result.tickets.find((t) => t.id === 'T4')).toMatchObject({ state: 'accepted', attempts: 1 });
  expect(result.status).toBe('completed');
  // The Boss's review of the Tester read the malformed call as not run, and the real check as passed.
  const review = harness.sim
    .requests()
    .find(
      (q) =>
        q.schemaName === SCHEMA_NAMES.review && q.messages.some((m) => m.content.includes('# Review of ticket T4')),
    )!
    .messages.at(-1)!.content;
  expect(review).toContain(
    `- check_page ${GARBAGE_PAGE.slice(0, 66)}... — not run (the agent's own call was invalid: not a finding about the work)`,
  );
  expect(review).toContain('- check_page index.html — passed');
});
