/**
 * The gateway's upstream calls stream like every other Maestro call: a provider that goes quiet
 * mid-answer is cut off after the idle timeout (not after the whole call's timeout) and the CLI
 * gets a 504 that says so; a provider that refuses streaming is asked again without, and
 * remembered.
 */
import OpenAI from 'openai';
import { startSimLlm, type SimLlm } from '../../src/dev/sim-llm';
import { ProviderMemory } from '../../src/activities/llm/adaptations';
import { startGateway, type Gateway } from '../../src/gateway';

let sim: SimLlm;
const open: Gateway[] = [];

beforeAll(async () => {
  sim = await startSimLlm({ port: 0 });
});
afterEach(async () => {
  for (const g of open.splice(0)) await g.close();
  sim.clearFaults();
  sim.clearRequests();
});
afterAll(async () => {
  await sim.close();
});

async function gateway(llm: Record<string, unknown> = {}): Promise<Gateway> {
  const g = await startGateway({
    llm: { baseUrl: sim.baseUrl, apiKey: 'sim-key', timeoutMs: 30_000, idleTimeoutMs: 1_000, ...llm },
    model: 'maestro-sim',
    meta: { kind: 'work', role: 'coder', ticketId: 'T1', attempt: 1 },
    wallMs: 60_000,
  });
  open.push(g);
  return g;
}

const ask = (g: Gateway) =>
  new OpenAI({ baseURL: `${g.url}/v1`, apiKey: g.token, maxRetries: 0 }).chat.completions.create({
    model: 'cli-model',
    messages: [{ role: 'user', content: 'Write a haiku about coffee.' }],
  });

test('upstream calls are streamed, with the usage of the final chunk', async () => {
  const g = await gateway();
  const answer = await ask(g);
  expect(answer.choices[0]?.message.content).toBeTruthy();
  const [req] = sim.requests();
  expect(req?.stream).toBe(true);
  expect(answer.usage?.completion_tokens).toBeGreaterThan(0);
});

test('a provider that stalls mid-answer is cut off after the idle timeout, and the CLI gets a 504 saying so', async () => {
  const g = await gateway();
  sim.injectFault({ kind: 'stall', times: 1 });
  const t0 = Date.now();
  const err = await ask(g).catch((e: unknown) => e);
  const took = Date.now() - t0;
  expect(err).toBeInstanceOf(OpenAI.APIError);
  expect((err as InstanceType<typeof OpenAI.APIError>).status).toBe(504);
  expect(String((err as Error).message)).toMatch(/sent no token for 1 s/);
  // The call's own timeout is 30 s: the idle timeout ended it.
  expect(took).toBeLessThan(15_000);
});

test('a provider that refuses streaming is called without it, and that is remembered', async () => {
  const refusing = await startSimLlm({ port: 0, quirks: ['stream-refused'] });
  try {
    const g = await gateway({ baseUrl: refusing.baseUrl, memory: new ProviderMemory() });
    expect((await ask(g)).choices[0]?.message.content).toBeTruthy();
    expect((await ask(g)).choices[0]?.message.content).toBeTruthy();
    // refused once, asked again without; the next call goes without at once
    expect(refusing.requests().map((r) => [r.status, r.stream === true])).toEqual([
      [400, true],
      [200, false],
      [200, false],
    ]);
  } finally {
    await refusing.close();
  }
});
