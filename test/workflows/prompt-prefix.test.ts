/**
 * Prompts that providers can cache (issue 23, section 3): in a real run (Temporal dev server, real
 * activities, simulated LLM over HTTP), calls of one kind share a byte-identical prefix that holds
 * the system prompt and the role's standing instructions, and the ticket-specific part comes after
 * it. Providers bill a repeated prefix at the cached price, so a per-ticket detail placed early
 * would make every call pay full price.
 */
import type { SimRequestRecord } from '../../src/dev/sim-llm';
import { SCHEMA_NAMES } from '../../src/shared/constants';
import { useRunWorker } from '../helpers/run-worker';
import { useSimAndTemporal } from '../helpers/temporal';

const harness = useSimAndTemporal({ port: 0 });
const env = useRunWorker(harness, 'prompt-prefix');

/** The prompt as the simulator counts and caches it: the messages' texts, in order. */
const textOf = (r: SimRequestRecord) => r.messages.map((m) => m.content).join('');

function sharedPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

let requests: SimRequestRecord[] = [];

beforeAll(async () => {
  const runId = await env.api.start('Write notes on sourdough baking [sim:tickets=8]', {
    runId: `prompt-prefix-${Date.now()}`,
  });
  const result = await env.api.result(runId);
  expect(result.status).toBe('completed');
  requests = harness.sim.requests().filter((r) => r.status === 200);
});

describe('stable-first prompts in one run', () => {
  it('two Boss reviews of different tickets share the system prompt and the review instructions, byte for byte, before any ticket detail', () => {
    const reviews = requests.filter((r) => r.schemaName === SCHEMA_NAMES.review);
    const [a, b] = [reviews[0]!, reviews.find((r) => r.ticketId !== reviews[0]!.ticketId)!];
    expect(a.ticketId).toMatch(/^T\d+$/);
    expect(b.ticketId).toMatch(/^T\d+$/);
    const [ta, tb] = [textOf(a), textOf(b)];
    const shared = sharedPrefix(ta, tb);
    const system = a.messages.find((m) => m.role === 'system')!.content;
    // The whole system message is shared, and with it the Boss's standing review instructions.
    expect(shared).toBeGreaterThanOrEqual(system.length);
    const rules = ta.indexOf('Accept when every acceptance criterion is met');
    expect(rules).toBeGreaterThanOrEqual(0);
    expect(rules).toBeLessThan(shared);
    // Nothing of the ticket is in the shared part: its header, result and revisions left come after it.
    expect(system).not.toMatch(/\bT\d+\b/);
    expect(ta.indexOf(`# Review of ticket ${a.ticketId}`)).toBeGreaterThanOrEqual(system.length);
    expect(ta.indexOf('Revisions left:')).toBeGreaterThan(ta.indexOf('## Result of attempt'));
  });

  it("two workers of one role share the role's system prompt and answer rules before their tickets", () => {
    const work = requests.filter((r) => r.schemaName === SCHEMA_NAMES.work);
    const bySystem = new Map<string, SimRequestRecord[]>();
    for (const r of work) {
      const system = r.messages.find((m) => m.role === 'system')!.content;
      bySystem.set(system, [...(bySystem.get(system) ?? []), r]);
    }
    const pair = [...bySystem.values()].find((rs) => new Set(rs.map((r) => r.ticketId)).size >= 2);
    expect(pair).toBeDefined();
    const [a, b] = [pair![0]!, pair!.find((r) => r.ticketId !== pair![0]!.ticketId)!];
    const [ta, tb] = [textOf(a), textOf(b)];
    const shared = sharedPrefix(ta, tb);
    const system = a.messages.find((m) => m.role === 'system')!.content;
    expect(shared).toBeGreaterThanOrEqual(system.length);
    const answerRules = ta.indexOf('## Answer\nReturn a short summary');
    expect(answerRules).toBeGreaterThanOrEqual(0);
    expect(answerRules).toBeLessThan(shared);
    expect(system).not.toMatch(/\bT\d+\b/);
    expect(ta.indexOf(`# Ticket ${a.ticketId}:`)).toBeGreaterThanOrEqual(system.length);
  });

  it('the final report prompt gives its instructions before the goal and the tickets', () => {
    const final = requests.find((r) => r.schemaName === SCHEMA_NAMES.final)!;
    const t = textOf(final);
    expect(t.indexOf('Write a headline')).toBeGreaterThanOrEqual(0);
    expect(t.indexOf('Write a headline')).toBeLessThan(t.indexOf('# Goal'));
  });
});
