/**
 * Agent turns (tool-turn.ts) against providers that refuse the schema constraints the constrained
 * wire schema keeps (`pattern`, `minItems`, `maxItems`): Azure OpenAI's structured outputs, and
 * any endpoint whose 400 names one. Structured calls switch to the portable schema for both; an
 * agent turn must too, or every agent ticket fails there. A real HTTP server plays the provider.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ProviderMemory } from '../../src/activities/llm/adaptations';
import { ToolLlm } from '../../src/activities/llm/tool-turn';
import { WorkResult } from '../../src/shared/schemas';

let server: http.Server;
let base: string;
const bodies: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      bodies.push(body);
      res.setHeader('content-type', 'application/json');
      const refused = /"(pattern|minItems|maxItems)"/.exec(body);
      if (refused) {
        res.statusCode = 400;
        res.end(
          JSON.stringify({
            error: {
              message: `Invalid schema for response_format 'work_result': '${refused[1]}' is not permitted.`,
              type: 'invalid_request_error',
              param: 'response_format',
              code: null,
            },
          }),
        );
        return;
      }
      res.end(
        JSON.stringify({
          id: 'c1',
          object: 'chat.completion',
          created: 0,
          model: 'm',
          choices: [
            {
              index: 0,
              finish_reason: 'stop',
              message: { role: 'assistant', content: JSON.stringify({ summary: 'done', files: [] }) },
            },
          ],
          usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => (bodies.length = 0));

const turn = (llm: ToolLlm) =>
  llm.turn({
    model: 'm',
    messages: [{ role: 'user', content: 'work' }],
    tools: [],
    schema: WorkResult,
    schemaName: 'work_result',
    label: 'T1 coder',
    meta: { kind: 'work', role: 'coder', attempt: 1 },
  });

it('Azure: an agent turn sends the portable schema (no pattern, minItems, maxItems) and gets its answer', async () => {
  const llm = new ToolLlm({
    provider: 'azure',
    apiKey: 'k',
    azure: { endpoint: base, apiVersion: '2024-10-21' },
    timeoutMs: 10_000,
    memory: new ProviderMemory(),
  });
  const res = await turn(llm);
  expect(res.final).toEqual({ summary: 'done', files: [] });
  expect(bodies).toHaveLength(1);
});

it('an endpoint that refuses a constraint: the turn fails once (retryable), then the retry sends the portable schema', async () => {
  const memory = new ProviderMemory();
  const llm = new ToolLlm({ baseUrl: `${base}/v1`, apiKey: 'k', timeoutMs: 10_000, memory });
  await expect(turn(llm)).rejects.toMatchObject({
    nonRetryable: false,
    message: expect.stringMatching(/pattern|maxItems/),
  });
  const res = await turn(llm); // Temporal's retry of the activity, in the same process
  expect(res.final).toEqual({ summary: 'done', files: [] });
  expect(bodies).toHaveLength(2);
});
