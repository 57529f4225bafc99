/**
 * Real coding-agent CLIs nobody here wrote, as workers of a run: the Coder is Codex and the Writer
 * Claude Code; in a second run the Designer is OpenCode, the Writer Qwen Code and the Coder aider
 * (installed by .ci/run under .maestro/agent-clis from their registries, pinned).
 * Each runs headless in run_command's sandbox, reaches the simulated model only through Maestro's
 * LLM gateway (src/gateway), edits files in its ticket's space with its own file tool and passes
 * the Boss's review. The run's bill equals the gateways' ledgers and the simulator's own count,
 * and no request a CLI made carries the goal. Nothing is skipped: a missing CLI or gateway fails
 * with the reason.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Gateway, StartGateway } from '../../src/activities/executor/gateway-port';
import { codingAgentLines } from '../../src/client/coding-agents-text';
import { CLI_PROGRAMS, findCliProgram } from '../../src/activities/executor/cli-specs';
import type { ExecutorAgent } from '../../src/shared/executor-settings';
import { DEFAULT_ROLES, roleInfoOf, type RoleDefinition } from '../../src/shared/roles';
import type { RunResult } from '../../src/shared/types';
import { testDeps, testWorker, uniqueQueue, useSimAndTemporal } from '../helpers/temporal';

const harness = useSimAndTemporal({ port: 0 });
const MAESTRO_HOME = path.resolve(__dirname, '../../.maestro');
const GATEWAY = path.resolve(__dirname, '../../src/gateway/index.ts');

/** The real gateway (s21-gateway); a clear failure while it is not there. */
function realGateway(): StartGateway {
  if (!existsSync(GATEWAY))
    throw new Error(
      `src/gateway is missing (${GATEWAY}): the executor needs the LLM gateway of issue 21 (branch s21-gateway)`,
    );
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- resolved at run time (see above)
  return (require(GATEWAY) as { startGateway: StartGateway }).startGateway;
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-executor-clis-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * One run of the website goal in which each role of `cliOf` is done by that real CLI: every one of
 * their tickets is accepted with files, the bill equals the gateways' ledgers and the simulator's
 * count, and no request carries the goal.
 */
async function runWithClis(cliOf: Partial<Record<string, Exclude<ExecutorAgent, 'custom'>>>): Promise<void> {
  for (const agent of Object.values(cliOf)) {
    const bin = CLI_PROGRAMS[agent!].bin;
    if (!findCliProgram(bin, MAESTRO_HOME, ''))
      throw new Error(
        `${bin} is not installed under ${MAESTRO_HOME}/agent-clis: run .ci/run (it installs the pinned versions), or ${CLI_PROGRAMS[agent!].install}`,
      );
  }
  const cliRoles = Object.keys(cliOf);
  const startGateway = realGateway();
  const gateways: Gateway[] = [];
  const roles: RoleDefinition[] = DEFAULT_ROLES.map((r) =>
    cliOf[r.name] ? { ...r, executor: { agent: cliOf[r.name]!, wallMs: 180_000, maxRetries: 0 } } : r,
  );
  const taskQueue = uniqueQueue('executor-clis');
  const base = testDeps(harness.sim.baseUrl);
  const deps = testDeps(harness.sim.baseUrl, {
    roles,
    // As a real worker does: MAESTRO_HOME is hidden from the sandbox, all but the CLIs' install.
    sandboxHide: [...(base.sandboxHide ?? []), MAESTRO_HOME],
    executor: {
      startGateway: async (o) => {
        const g = await startGateway(o);
        gateways.push(g);
        return g;
      },
      llm: { baseUrl: harness.sim.baseUrl, apiKey: 'test-key', timeoutMs: 60_000 },
      maestroHome: MAESTRO_HOME,
      workspaceParent: path.join(dir, 'ws'),
    },
  });
  const goal = 'Build a landing page for a tea room called Leaf Lounge';
  harness.sim.clearRequests();
  const worker = await testWorker(harness.conn.nativeConnection, taskQueue, deps);
  const result = await worker.runUntil(async () => {
    const handle = await harness.conn.client.workflow.start('orchestratorWorkflow', {
      taskQueue,
      workflowId: `${taskQueue}-run`,
      args: [{ goal, roles: roles.map(roleInfoOf) }],
    });
    return (await handle.result()) as RunResult;
  });
  expect(result.status).toBe('completed');
  for (const role of cliRoles) {
    const tickets = result.tickets.filter((t) => t.role === role);
    expect(tickets.length).toBeGreaterThan(0);
    for (const t of tickets) {
      expect(t.state).toBe('accepted');
      expect(result.manifest.filter((m) => m.ticketId === t.id).length).toBeGreaterThan(0);
    }
  }
  // The bill: the run booked exactly the calls the gateways made, and the simulator answered them.
  const ledgers = gateways.flatMap((g) => g.ledger().calls);
  const cliCalls = result.calls.filter((c) => cliRoles.includes(c.role ?? '') && c.kind === 'work');
  expect(cliCalls.length).toBe(ledgers.length);
  expect(cliCalls.map((c) => c.startedAt).sort()).toEqual(ledgers.map((c) => c.startedAt).sort());
  const simCli = harness.sim.requests().filter((r) => r.messages.some((m) => m.content.includes('## How to deliver')));
  expect(simCli.length).toBe(ledgers.length);
  expect(ledgers.length).toBeGreaterThanOrEqual(2 * cliRoles.length);
  // Each call names the CLI that made it, and the result lists every CLI on the bill.
  for (const c of cliCalls) expect(c.executor).toBe(cliOf[c.role]);
  const lines = codingAgentLines(result.calls);
  for (const agent of Object.values(cliOf)) expect(lines.some((l) => l.startsWith(`  ${agent}: T`))).toBe(true);
  // Hygiene of every request: no goal, and only the ticket of the CLI's own attempt.
  for (const g of gateways) expect(g.requestLogText?.() ?? '').not.toContain(goal);
  // aider has no tool to read files: it is given its dependencies' outputs on its command line.
  for (const [role, agent] of Object.entries(cliOf)) {
    if (agent !== 'aider') continue;
    for (const t of result.tickets.filter((x) => x.role === role && x.dependsOn.length > 0)) {
      const depFiles = result.manifest.filter((m) => t.dependsOn.includes(m.ticketId)).map((m) => m.path);
      expect(depFiles.length).toBeGreaterThan(0);
      const sent = simCli.filter((r) => r.ticketId === t.id).map((r) => r.messages.map((m) => m.content).join('\n'));
      expect(sent.some((x) => x.includes('READ ONLY files') && depFiles.every((f) => x.includes(f)))).toBe(true);
    }
  }
  for (const r of simCli) {
    expect(r.messages.map((m) => m.content).join('\n')).not.toContain(goal);
    expect(cliRoles).toContain(result.tickets.find((t) => t.id === r.ticketId)?.role);
  }
}

test('one run, two real CLIs: Codex codes and Claude Code writes; both pass review, billed exactly, hygienic', async () => {
  await runWithClis({ coder: 'codex', writer: 'claude-code' });
}, 600_000);

test('one run, three more real CLIs: OpenCode designs, Qwen Code writes, aider codes on their files; all pass review, billed exactly, hygienic', async () => {
  await runWithClis({ designer: 'opencode', writer: 'qwen-code', coder: 'aider' });
}, 600_000);
