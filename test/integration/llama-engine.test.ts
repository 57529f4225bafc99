/**
 * Maestro's LLM layer against a real inference engine, offline: llama.cpp (node-llama-cpp's
 * prebuilt CPU build, one thread) serving SmolLM2-135M-Instruct behind our thin OpenAI-compatible
 * HTTP front. The tiny model cannot plan well, so this checks what must hold with any model:
 * every wire schema compiles to a llama.cpp grammar, a grammar-constrained answer parses and its
 * usage is recorded, a worker's answer becomes stored files, a whole run's planning ends
 * within its bounds with a message that says what to do, and a budgeted run whose workers answer
 * from the engine bills every call at the tokens the engine counted.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { WorkflowFailedError } from '@temporalio/client';
import { zodResponseFormat } from 'openai/helpers/zod';
import { StructuredLlm } from '../../src/activities/llm/structured';
import { strictModeProblems, wireSchemaOf } from '../../src/activities/llm/wire-schema';
import { createWorkerActivities } from '../../src/activities/roles/worker';
import { describeFailure } from '../../src/client/api';
import { SMOLLM_MODEL_ID } from '../../src/dev/llama-engine/model-file';
import { DEFAULT_ROLES } from '../../src/shared/roles';
import { FinalReport } from '../../src/shared/schemas';
import type { RunInput } from '../../src/shared/types';
import { startSimLlm } from '../../src/dev/sim-llm';
import { BOSS_ROLE } from '../../src/shared/roles';
import { spendReportSignal, spendRequestSignal, statusQuery } from '../../src/shared/messages';
import type { RunResult } from '../../src/shared/types';
import type { Usage } from '../../src/shared/usage';
import { startEngineProcess, type EngineProcess } from '../helpers/llama-engine';
import { startUsageMeter } from '../helpers/usage-meter';
import { connectTest, testDeps, testWorker, uniqueQueue, TEST_ROLES, type TestConnection } from '../helpers/temporal';
import { ALL_WIRE_SCHEMAS } from '../helpers/wire-schemas';

jest.setTimeout(300_000);

let engine: EngineProcess;
let conn: TestConnection;
beforeAll(async () => {
  engine = await startEngineProcess();
  conn = await connectTest();
});
afterAll(async () => {
  // The engine first: closing the connection throws while a timed-out test's worker still holds
  // it, and the engine process must not outlive the suite.
  await engine?.stop();
  await conn?.close();
});

const model = SMOLLM_MODEL_ID;
const llm = () => new StructuredLlm({ baseUrl: engine.baseUrl, timeoutMs: 240_000 });

async function compile(schema: unknown): Promise<{ ok: boolean; rules?: number; error?: string }> {
  const res = await fetch(engine.baseUrl.replace(/\/v1$/, '/_engine/grammar'), {
    method: 'POST',
    body: JSON.stringify({ schema }),
  });
  return (await res.json()) as { ok: boolean; rules?: number; error?: string };
}

describe('a real llama.cpp engine', () => {
  it('compiles every Maestro wire schema to a grammar (the schemas sent before did not compile)', async () => {
    for (const { name, schema } of ALL_WIRE_SCHEMAS) {
      const wire = wireSchemaOf(schema).schema;
      expect({ name, problems: strictModeProblems(wire) }).toEqual({ name, problems: [] });
      const compiled = await compile(wire);
      expect({ name, ...compiled }).toEqual({ name, ok: true, rules: expect.any(Number) as number });
    }
    // What Maestro sent before (zodResponseFormat keeps maxLength, maxItems and patterns):
    // llama.cpp refuses the plan's repetition counts, the failure the issue reported.
    const before = await compile(zodResponseFormat(ALL_WIRE_SCHEMAS[0]!.schema, 'maestro_plan').json_schema.schema);
    expect(before).toEqual({ ok: false, error: expect.stringContaining('Failed to parse grammar') as string });
    expect(engine.stderr()).toContain('exceeds sane defaults');
  });

  it('a grammar-constrained answer parses into the schema, with the usage the engine counted', async () => {
    const res = await llm().call({
      model,
      // Prompts the tiny model answers briefly at temperature 0 (greedy, so the same every time).
      prompt: {
        system: 'You are the Boss.',
        user: 'Write the final report of a run that built a bakery landing page.',
      },
      schema: FinalReport,
      schemaName: 'maestro_final_report',
      label: 'final report',
      temperature: 0,
      maxTokens: 160,
    });
    expect(FinalReport.safeParse(res.data).success).toBe(true);
    expect(res.calls).toHaveLength(1);
    expect(res.calls[0]).toMatchObject({ model, outputMode: 'json_schema', repaired: false });
    expect(res.calls[0]!.estimated).toBeUndefined(); // the engine's own token counts, not estimates
    expect(res.usage.promptTokens).toBeGreaterThan(20);
    expect(res.usage.completionTokens).toBeGreaterThan(5);
  });

  it("a worker's answer from the real model becomes stored files", async () => {
    const deps = testDeps(engine.baseUrl, {
      llm: llm(),
      roles: DEFAULT_ROLES.map((r) => ({ ...r, model, temperature: 0, maxTokens: 300 })),
    });
    const out = await createWorkerActivities(deps).performTicket({
      runId: 'engine-run',
      attempt: 1,
      dependencies: [],
      ticket: {
        id: 'T1',
        role: 'writer',
        title: 'Write the README',
        spec: 'Return one file: path "README.md", content "# Rise and Shine". Summary: "Wrote the README".',
        acceptanceCriteria: ['README.md exists'],
        dependsOn: [],
      },
    });
    expect(out.artifacts.length).toBeGreaterThan(0);
    for (const a of out.artifacts) {
      const stored = readFileSync(fileURLToPath(a.uri));
      expect(stored.length).toBe(a.bytes);
      expect(a.path).toMatch(/^[A-Za-z0-9._\-/]+$/);
    }
    expect(out.usage.calls).toBeGreaterThan(0);
    expect(out.calls.every((c) => c.promptTokens > 0 && c.completionTokens > 0 && !c.estimated)).toBe(true);
  });

  it("a whole run's planning ends within its bounds, saying what to change", async () => {
    const taskQueue = uniqueQueue('engine-run');
    const deps = testDeps(engine.baseUrl, {
      llm: llm(),
      bossModel: model,
      workerModel: () => model,
      // Far too few tokens for a plan: each answer is cut off, which Temporal retries once.
      bossMaxTokens: 24,
      bossTemperature: 0,
    });
    const worker = await testWorker(conn.nativeConnection, taskQueue, deps);
    const started = Date.now();
    const err = await worker.runUntil(async () => {
      const handle = await conn.client.workflow.start('orchestratorWorkflow', {
        taskQueue,
        workflowId: `${taskQueue}-run`,
        args: [
          {
            goal: 'Write a README for a bakery called Rise and Shine',
            roles: TEST_ROLES,
            maxReplans: 0,
            gatePolicies: { plan: { timeoutMs: 1000, onTimeout: 'reject' } },
          } satisfies RunInput,
        ],
      });
      return handle.result().then(
        () => undefined,
        (e: unknown) => e,
      );
    });
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const message = describeFailure(err);
    expect(message).toContain('cut off at the output-token limit (24 tokens)');
    // The Boss's own setting, and no ticket while it plans (issue 23, 1.5).
    expect(message).toContain('raise the Boss\'s "maxTokens" ("boss": {"maxTokens"');
    expect(message).not.toMatch(/role boss|ticket/);
    expect(Date.now() - started).toBeLessThan(240_000);
  });

  it('a budgeted run whose workers answer from the engine bills every call at the tokens the engine counted', async () => {
    // The Boss plans and reviews on the simulated LLM (the tiny model cannot plan); every
    // worker call goes to the engine through a meter that keeps the engine's own usage figures.
    const sim = await startSimLlm({ port: 0 });
    const meter = await startUsageMeter(engine.baseUrl);
    try {
      const engineLlm = new StructuredLlm({ baseUrl: meter.baseUrl, timeoutMs: 240_000 });
      const simLlm = new StructuredLlm({ baseUrl: sim.baseUrl, apiKey: 'test-key', timeoutMs: 30_000 });
      const taskQueue = uniqueQueue('engine-budget');
      const deps = testDeps(sim.baseUrl, {
        llm: { call: (req) => (req.model === model ? engineLlm : simLlm).call(req) },
        roles: DEFAULT_ROLES.map((r) => ({ ...r, model, temperature: 0, maxTokens: 300 })),
        workerModel: () => model,
      });
      const worker = await testWorker(conn.nativeConnection, taskQueue, deps);
      const workflowId = `${taskQueue}-run`;
      const { ended, status } = await worker.runUntil(async () => {
        const handle = await conn.client.workflow.start('orchestratorWorkflow', {
          taskQueue,
          workflowId,
          args: [
            {
              goal: 'Write a README for a bakery called Rise and Shine [sim:tickets=1]',
              // The writer: the tiny model's files for other roles do not pass the path rules.
              roles: TEST_ROLES.filter((role) => role.name === 'writer'),
              budget: { tokens: 1_000_000 },
              // A ticket the model fails ends the run at once instead of waiting for a person.
              gatePolicies: { ticket: { timeoutMs: 1000, onTimeout: 'fail' } },
            } satisfies RunInput,
          ],
        });
        const end = await handle.result().then(
          (r) => (r as RunResult).status,
          (e: unknown) => describeFailure(e),
        );
        return { ended: end, status: await handle.query(statusQuery) };
      });
      // The tiny model's answer is often cut off at its token limit, or a schema-invalid file list:
      // the run then fails, and those calls are billed all the same. Either way the bill must be
      // what the engine counted.
      if (ended !== 'completed') {
        expect(ended).toContain('the ticket gate (ticket:T1#1) timed out');
        expect(status.tickets[0]?.error).toMatch(/cut off at the output-token limit|does not match the schema/);
      }
      const r = status;
      const engineCalls = meter.calls();
      expect(engineCalls.length).toBeGreaterThan(0);
      expect(engineCalls.every((c) => c.status === 200 && c.promptTokens > 0)).toBe(true);
      const tokens = (u: Usage | undefined) => (u ? u.promptTokens + u.completionTokens : 0);
      const workerTokens = Object.entries(r.cost.byRole)
        .filter(([role]) => role !== BOSS_ROLE)
        .reduce((n, [, u]) => n + tokens(u), 0);
      expect(workerTokens).toBe(engineCalls.reduce((n, c) => n + c.promptTokens + c.completionTokens, 0));
      const simBilled = sim
        .requests()
        .reduce((n, q) => n + (q.usage ? q.usage.prompt_tokens + q.usage.completion_tokens : 0), 0);
      expect(tokens(r.cost.byRole[BOSS_ROLE])).toBe(simBilled);
      // The ticket's work and review went on the permit batch granted at its start.
      const signals = (await conn.client.workflow.getHandle(workflowId).fetchHistory()).events!.flatMap((e) => {
        const name = e.workflowExecutionSignaledEventAttributes?.signalName;
        return name === spendRequestSignal.name || name === spendReportSignal.name ? [name] : [];
      });
      expect(signals).toEqual([]);
    } finally {
      await meter.close();
      await sim.close();
    }
  });
});
