/**
 * Whole runs against providers with quirks (imitated by the simulated LLM): `json_schema`
 * refused, only JSON mode, tools refused, answers wrapped in prose and fences, reasoning text
 * beside the answer, no usage block, `max_tokens` and `temperature` refused. Each run must
 * complete in the mode the provider accepts, learn a refusal once (not per call), and bill
 * exactly the tokens the provider counted — or, without usage, tokenizer estimates marked so.
 */
import type { ActivityDeps } from '../../src/activities';
import { costOf } from '../../src/activities/llm/pricing';
import { ApplicationFailure } from '@temporalio/common';
import { ProviderMemory } from '../../src/activities/llm/adaptations';
import { StructuredLlm } from '../../src/activities/llm/structured';
import { ToolLlm } from '../../src/activities/llm/tool-turn';
import { startSimLlm, type SimLlm, type SimQuirk } from '../../src/dev/sim-llm';
import { FailureType } from '../../src/shared/errors';
import { DEFAULT_ROLES } from '../../src/shared/roles';
import { FinalReport } from '../../src/shared/schemas';
import type { LlmCallRecord, RunInput, RunResult } from '../../src/shared/types';
import { connectTest, testDeps, testWorker, uniqueQueue, TEST_ROLES, type TestConnection } from '../helpers/temporal';

const GOAL = 'Build a landing page for a bakery called Rise and Shine';

let conn: TestConnection;
const sims: SimLlm[] = [];
beforeAll(async () => {
  conn = await connectTest();
});
afterAll(async () => {
  for (const s of sims) await s.close();
  await conn?.close();
});

async function runWith(
  quirks: SimQuirk[],
  deps: (baseUrl: string) => Partial<ActivityDeps> = () => ({}),
): Promise<{ result: RunResult; sim: SimLlm }> {
  const sim = await startSimLlm({ port: 0, quirks });
  sims.push(sim);
  const taskQueue = uniqueQueue('quirks');
  const worker = await testWorker(conn.nativeConnection, taskQueue, testDeps(sim.baseUrl, deps(sim.baseUrl)));
  const result = await worker.runUntil(async () => {
    const handle = await conn.client.workflow.start('orchestratorWorkflow', {
      taskQueue,
      workflowId: `${taskQueue}-run`,
      args: [{ goal: GOAL, roles: TEST_ROLES } satisfies RunInput],
    });
    return (await handle.result()) as RunResult;
  });
  return { result, sim };
}

const answered = (calls: LlmCallRecord[]) => calls.filter((c) => c.error !== FailureType.LlmAdapted);

/** The run billed exactly what the provider counted, and its total is the sum of its calls. */
function expectExactBilling(result: RunResult, sim: SimLlm): void {
  const served = sim.requests().filter((r) => r.status === 200);
  const sum = (f: (u: NonNullable<(typeof served)[number]['usage']>) => number) =>
    served.reduce((s, r) => s + (r.usage ? f(r.usage) : 0), 0);
  const calls = answered(result.calls);
  expect(calls).toHaveLength(served.length);
  expect(calls.reduce((s, c) => s + c.promptTokens, 0)).toBe(sum((u) => u.prompt_tokens));
  expect(calls.reduce((s, c) => s + c.completionTokens, 0)).toBe(sum((u) => u.completion_tokens));
  expect(calls.reduce((s, c) => s + c.cachedTokens, 0)).toBe(sum((u) => u.cached_tokens ?? 0));
  const expectedUsd = served.reduce(
    (s, r) =>
      s +
      costOf('maestro-sim', {
        promptTokens: r.usage?.prompt_tokens ?? 0,
        cachedTokens: r.usage?.cached_tokens ?? 0,
        completionTokens: r.usage?.completion_tokens ?? 0,
      }),
    0,
  );
  expect(result.cost.usd).toBeCloseTo(expectedUsd, 5);
  expect(result.cost.usd).toBeCloseTo(
    result.calls.reduce((s, c) => s + c.usd, 0),
    5,
  );
}

describe('runs against providers with quirks', () => {
  it('json_schema refused and only JSON mode: the run falls back to json_object once and completes', async () => {
    const { result, sim } = await runWith(['json-schema-refused', 'tools-refused']);
    expect(result.status).toBe('completed');
    const refused = sim.requests().filter((r) => r.status === 400);
    // Learned once for the process (one model here), not refused again on every call.
    expect(refused.map((r) => r.mode)).toEqual(['json_schema']);
    expect(result.calls.filter((c) => c.error === FailureType.LlmAdapted)).toHaveLength(1);
    expect(new Set(answered(result.calls).map((c) => c.outputMode))).toEqual(new Set(['json_object']));
    expect(
      new Set(
        sim
          .requests()
          .filter((r) => r.status === 200)
          .map((r) => r.mode),
      ),
    ).toEqual(new Set(['json_object']));
    expectExactBilling(result, sim);
  });

  it('every structured mode refused and answers wrapped in prose: the run ends in text mode and completes', async () => {
    const { result, sim } = await runWith([
      'json-schema-refused',
      'json-object-refused',
      'tools-refused',
      'prose-wrapped',
    ]);
    expect(result.status).toBe('completed');
    expect(
      sim
        .requests()
        .filter((r) => r.status === 400)
        .map((r) => r.mode),
    ).toEqual(['json_schema', 'json_object', 'tool']);
    expect(new Set(answered(result.calls).map((c) => c.outputMode))).toEqual(new Set(['text']));
    expect(answered(result.calls).every((c) => !c.repaired)).toBe(true); // the prose never needed a repair
    expectExactBilling(result, sim);
  });

  it('json_schema and JSON mode refused: the answer comes as a forced tool call', async () => {
    const { result, sim } = await runWith(['json-schema-refused', 'json-object-refused']);
    expect(result.status).toBe('completed');
    expect(new Set(answered(result.calls).map((c) => c.outputMode))).toEqual(new Set(['tool']));
    expectExactBilling(result, sim);
  });

  it('a reasoning model (max_tokens and temperature refused, reasoning_content): adapted once, reasoning billed', async () => {
    const roles = DEFAULT_ROLES.map((r) => ({
      ...r,
      temperature: 0.3,
      maxTokens: 8000,
      reasoningEffort: 'low' as const,
    }));
    const { result, sim } = await runWith(['max-tokens-refused', 'temperature-refused', 'reasoning-content'], () => ({
      roles,
      bossTemperature: 0.3,
      bossMaxTokens: 8000,
      bossReasoningEffort: 'low',
    }));
    expect(result.status).toBe('completed');
    const refused = sim.requests().filter((r) => r.status === 400);
    expect(refused).toHaveLength(2); // one temperature refusal, one max_tokens refusal, then remembered
    const served = sim.requests().filter((r) => r.status === 200);
    expect(served.every((r) => r.mode === 'json_schema')).toBe(true);
    const calls = answered(result.calls);
    const reasoning = served.reduce((s, r) => s + (r.usage?.reasoning_tokens ?? 0), 0);
    expect(reasoning).toBeGreaterThan(0);
    expect(calls.reduce((s, c) => s + (c.reasoningTokens ?? 0), 0)).toBe(reasoning);
    // Reasoning tokens are output tokens: inside completionTokens, priced at the output rate.
    for (const c of calls) expect(c.completionTokens).toBeGreaterThan(c.reasoningTokens ?? 0);
    expectExactBilling(result, sim);
  });

  it('every call, the Boss included, is capped at 8192 output tokens unless configured', async () => {
    const { result, sim } = await runWith([]);
    expect(result.status).toBe('completed');
    const caps = new Set(sim.requests().map((r) => `${r.schemaName}: ${r.maxTokens ?? 'none'}`));
    expect([...caps].sort()).toEqual(
      ['maestro_final_report', 'maestro_plan', 'maestro_review', 'maestro_work_result'].map((n) => `${n}: 8192`),
    );
  });

  it('a provider that refuses the default cap as too large: lowered once to the limit it names, then remembered', async () => {
    const { result, sim } = await runWith(['small-output-limit']);
    expect(result.status).toBe('completed');
    const refused = sim.requests().filter((r) => r.status === 400);
    // One refusal for the whole run (the lesson is kept per base URL and model), of the default.
    expect(refused.map((r) => r.maxTokens)).toEqual([8192]);
    const served = sim.requests().filter((r) => r.status === 200);
    expect(new Set(served.map((r) => r.maxTokens))).toEqual(new Set([4096]));
    expect(result.calls.filter((c) => c.error === FailureType.LlmAdapted)).toHaveLength(1);
    expectExactBilling(result, sim);
  });

  it("a configured cap the provider refuses is not changed behind the person's back: the call fails saying so", async () => {
    const sim = await startSimLlm({ port: 0, quirks: ['small-output-limit'] });
    sims.push(sim);
    const llm = new StructuredLlm({ baseUrl: sim.baseUrl, timeoutMs: 10_000 });
    const err = await llm
      .call({
        model: 'maestro-sim',
        prompt: { system: 'You are the Boss.', user: 'Write the final report of a run.' },
        schema: FinalReport,
        schemaName: 'maestro_final_report',
        label: 'boss final report',
        maxTokens: 10_000,
      })
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    expect(err?.message).toContain('rejected the request');
    expect(sim.requests().map((r) => r.maxTokens)).toEqual([10_000]);
  });

  it("an agent's turn with the default cap refused: the attempt fails retryably, the next one sends the limit named", async () => {
    const sim = await startSimLlm({ port: 0, quirks: ['small-output-limit'] });
    sims.push(sim);
    const llm = new ToolLlm({ baseUrl: sim.baseUrl, timeoutMs: 10_000, memory: new ProviderMemory() });
    const turn = () =>
      llm.turn({
        model: 'maestro-sim',
        messages: [
          { role: 'system', content: 'You are the Boss.' },
          { role: 'user', content: 'Write the final report of a run.' },
        ],
        tools: [],
        schema: FinalReport,
        schemaName: 'maestro_final_report',
        label: 'writer T1 turn 1',
        meta: { kind: 'work', role: 'writer', ticketId: 'T1', attempt: 1 },
      });
    const first = await turn().then(
      () => undefined,
      (e: unknown) => e as ApplicationFailure,
    );
    expect(first).toBeInstanceOf(ApplicationFailure);
    expect(first?.nonRetryable).toBe(false);
    expect(first?.message).toContain('refuses the default output cap of 8192 tokens; retrying with 4096');
    expect((await turn()).final?.headline).toBeTruthy();
    expect(sim.requests().map((r) => `${r.status} ${r.maxTokens}`)).toEqual(['400 8192', '200 4096']);
  });

  it('no usage block: tokens are estimated with a tokenizer, marked estimated and priced', async () => {
    const { result, sim } = await runWith(['no-usage']);
    expect(result.status).toBe('completed');
    const calls = answered(result.calls);
    expect(calls.length).toBeGreaterThan(3);
    for (const c of calls) {
      expect(c.estimated).toBe(true);
      expect(c.promptTokens).toBeGreaterThan(0);
      expect(c.completionTokens).toBeGreaterThan(0);
      expect(c.usd).toBeCloseTo(costOf('maestro-sim', c), 6);
    }
    // The estimates are close to what the server counted but never sent (within 35%).
    const counted = sim
      .requests()
      .reduce((s, r) => s + (r.usage?.prompt_tokens ?? 0) + (r.usage?.completion_tokens ?? 0), 0);
    const estimated = calls.reduce((s, c) => s + c.promptTokens + c.completionTokens, 0);
    expect(Math.abs(estimated - counted) / counted).toBeLessThan(0.35);
    expect(result.cost.usd).toBeGreaterThan(0);
  });

  it('a configured mode is used from the first call, and a refusal is remembered per base URL and model', async () => {
    const sim = await startSimLlm({ port: 0, quirks: ['json-schema-refused'] });
    sims.push(sim);
    const llm = new StructuredLlm({ baseUrl: sim.baseUrl, apiKey: 'k', timeoutMs: 30_000, outputMode: 'tool' });
    const req = {
      prompt: { system: 'You are the Boss.', user: '# Final report\nSummarise the run.' },
      schema: FinalReport,
      schemaName: 'maestro_final_report',
      label: 'quirk probe',
    };
    await llm.call({ ...req, model: 'model-a' });
    expect(sim.requests().map((r) => [r.mode, r.status])).toEqual([['tool', 200]]);
    const fresh = new StructuredLlm({ baseUrl: sim.baseUrl, apiKey: 'k', timeoutMs: 30_000 });
    await fresh.call({ ...req, model: 'model-b' });
    await fresh.call({ ...req, model: 'model-b' });
    await fresh.call({ ...req, model: 'model-c' });
    expect(
      sim
        .requests()
        .slice(1)
        .map((r) => `${r.model}:${r.mode}:${r.status}`),
    ).toEqual([
      'model-b:json_schema:400',
      'model-b:json_object:200',
      'model-b:json_object:200',
      'model-c:json_schema:400',
      'model-c:json_object:200',
    ]);
  });
});
