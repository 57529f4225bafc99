/**
 * Hostile review of issue 20: a single-call worker of a repo ticket answers with a file that would
 * replace a tracked folder (`lib`, where lib/a.js and lib/b.js are tracked). It must not become an
 * artifact of the ticket (its tests, review and merge would all fail on it, or the commit would
 * delete the folder): it is left out, and the summary says so. The model is a real HTTP server.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createActivities } from '../../src/activities';
import { gitText } from '../../src/activities/repo/git';
import type { RepoWork } from '../../src/shared/repo';
import type { Ticket } from '../../src/shared/schemas';
import { testDeps } from '../helpers/temporal';
import { snapshotOf } from '../helpers/repo-snapshot';

let server: Server;
let baseUrl: string;
let dir: string;
const ANSWER = {
  summary: 'done',
  files: [
    { path: 'lib', content: 'replaces the folder\n' },
    { path: 'main.js/x', content: 'under a file\n' },
    { path: 'src/c.js', content: 'fine\n' },
  ],
};

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-hostile-worker-'));
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          id: 'x',
          object: 'chat.completion',
          created: 0,
          model: 'hostile',
          choices: [
            { index: 0, finish_reason: 'stop', message: { role: 'assistant', content: JSON.stringify(ANSWER) } },
          ],
          usage: { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 },
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

test('a single-call answer replacing a tracked folder or going through a file keeps only the good file', async () => {
  const deps = testDeps(baseUrl);
  const src = path.join(dir, 'repo');
  mkdirSync(path.join(src, 'lib'), { recursive: true });
  writeFileSync(path.join(src, 'lib', 'a.js'), 'a\n');
  writeFileSync(path.join(src, 'lib', 'b.js'), 'b\n');
  writeFileSync(path.join(src, 'main.js'), 'm\n');
  await gitText(['init', '-q', '-b', 'main'], { cwd: src });
  await gitText(['add', '-A'], { cwd: src });
  await gitText(['commit', '-q', '-m', 'start'], { cwd: src });
  const repo: RepoWork = { start: await snapshotOf(deps.store, src), name: 'repo' };
  const ticket: Ticket = {
    id: 'T1',
    role: 'coder',
    title: 'x',
    spec: 'x',
    acceptanceCriteria: ['x'],
    dependsOn: [],
    changes: ['src/c.js'],
  };
  const out = await createActivities(deps).performTicket({ runId: 'r1', ticket, dependencies: [], attempt: 1, repo });
  expect(out.artifacts.map((a) => a.path)).toEqual(['src/c.js']);
  expect(out.summary).toMatch(/not kept: lib \(.*folder of the repository/);
  expect(out.summary).toMatch(/main\.js\/x \(.*goes through "main\.js"/);
});
