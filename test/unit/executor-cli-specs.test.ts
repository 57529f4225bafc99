/**
 * The launch facts of the CLIs measured on real installs (cli-specs.ts, hide.ts) and the simulated
 * CLI brain's side of them (cli-agent.ts, aider-edits.ts): no placeholder is left where the
 * forwarder does not fill it in, a CLI that asks for its passwd entry survives a uid without one,
 * aider's venv is found and stays visible, Qwen Code's working directory is found, and aider's
 * edit formats are answered.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  AIDER_MAX_FILES,
  cliLaunch,
  findCliProgram,
  type CliLaunchArgs,
} from '../../src/activities/executor/cli-specs';
import { installRoot } from '../../src/activities/executor/hide';
import { aiderFormatOf, aiderReply } from '../../src/dev/sim-llm/aider-edits';
import { cliAgentStep } from '../../src/dev/sim-llm/cli-agent';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-cli-specs-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const args = (agent: CliLaunchArgs['agent']): CliLaunchArgs => ({
  agent,
  program: `/x/${agent}`,
  prompt: 'do it',
  promptFile: '/tmp/ws/ctl/prompt.md',
  home: '/tmp/ws/ctl/home',
  model: 'm',
  token: 'gw-secret-42',
  callTimeoutSec: 30,
});

test.each(['codex', 'claude-code', 'opencode', 'qwen-code', 'aider'] as const)(
  '%s: the gateway port placeholder appears only in argv and env (the forwarder fills in nothing else)',
  (agent) => {
    const l = cliLaunch(args(agent));
    for (const f of l.homeFiles) expect(f.content).not.toContain('{{PORT}}');
    expect(JSON.stringify([l.argv, l.env])).toContain('{{PORT}}');
    // A token on the command line shows in every `ps` of the worker.
    expect(l.argv.join(' ')).not.toContain('gw-secret-42');
  },
);

test('opencode.json reads the gateway URL and token from its environment', () => {
  const l = cliLaunch(args('opencode'));
  const cfg = JSON.parse(l.homeFiles.find((f) => f.path === 'opencode.json')!.content) as {
    provider: { maestro: { options: { baseURL: string; apiKey: string } } };
  };
  const { baseURL, apiKey } = cfg.provider.maestro.options;
  expect(l.env[/^\{env:(\w+)\}$/.exec(baseURL)![1]!]).toBe('http://127.0.0.1:{{PORT}}/v1');
  expect(l.env[/^\{env:(\w+)\}$/.exec(apiKey)![1]!]).toBe('gw-secret-42');
});

const asRoot = process.getuid?.() === 0 && spawnSync('setpriv', ['--version']).status === 0;
(asRoot ? test : test.skip)('qwen-code: a uid without a passwd entry still gets os.userInfo() (the preload)', () => {
  const l = cliLaunch({ ...args('qwen-code'), home: dir });
  for (const f of l.homeFiles) {
    mkdirSync(path.dirname(path.join(dir, f.path)), { recursive: true });
    writeFileSync(path.join(dir, f.path), f.content);
  }
  chmodSync(dir, 0o755);
  const probe = ['-e', 'console.log(require("node:os").userInfo().uid)'];
  const run = (env: Record<string, string>) =>
    spawnSync('setpriv', ['--reuid', '54321', '--regid', '54321', '--clear-groups', process.execPath, ...probe], {
      env: { PATH: '/usr/bin:/bin', HOME: dir, ...env },
      encoding: 'utf8',
    });
  const bare = run({});
  expect(bare.status).not.toBe(0);
  expect(bare.stderr).toContain('uv_os_get_passwd');
  const patched = run({ NODE_OPTIONS: l.env.NODE_OPTIONS! });
  expect(patched.stderr).toBe('');
  expect(patched.stdout.trim()).toBe('54321');
});

test('aider in .maestro/agent-clis/aider-venv is found, and its whole venv is its install root', () => {
  const home = path.join(dir, 'mh');
  const bin = path.join(home, 'agent-clis', 'aider-venv', 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(path.join(bin, 'aider'), '#!/bin/sh\n');
  writeFileSync(path.join(bin, '..', 'pyvenv.cfg'), 'home = /usr/bin\n');
  expect(findCliProgram('aider', home, '')).toBe(path.join(bin, 'aider'));
  expect(installRoot(path.join(bin, 'aider'))).toBe(path.join(home, 'agent-clis', 'aider-venv'));
  expect(installRoot('/usr/bin/true')).toBe('/usr/bin');
});

test('aider is given its own files to edit and the others read-only (it has no tool to read them), bounded', () => {
  const many = Array.from({ length: 80 }, (_, i) => `d${i}.css`);
  const l = cliLaunch({ ...args('aider'), spaceFiles: { own: ['index.html', '-x.js'], others: many } });
  expect(l.argv).toContain('--file=index.html');
  expect(l.argv).toContain('--file=-x.js');
  expect(l.argv).toContain('--read=d0.css');
  expect(l.argv.filter((a) => a.startsWith('--read=')).length).toBe(AIDER_MAX_FILES);
  expect(cliLaunch(args('aider')).argv.some((a) => a.startsWith('--file') || a.startsWith('--read'))).toBe(false);
});

const TICKET =
  'You are the Writer on a small team.\n\n# Ticket T1: Write the page copy\n\n## Specification\nWrite copy.md.\n\n## Acceptance criteria\n- it exists\n\n## How to deliver\n- Work here.\n';

test("the simulated CLI brain finds Qwen Code's working directory in its context message, not in tool docs", () => {
  const step = cliAgentStep({
    system: 'Use absolute paths; never the working directory.</description> of a tool',
    tools: [
      // Qwen Code offers more than write_file (which alone would look like Maestro's own agent).
      { type: 'function', function: { name: 'run_shell_command', parameters: { type: 'object' } } },
      {
        type: 'function',
        function: {
          name: 'write_file',
          parameters: { type: 'object', properties: { file_path: {}, content: {} } },
        },
      },
    ],
    messages: [
      { role: 'user', content: "I'm currently working in the directory: /tmp/ws/space\nHere is the folder structure" },
      { role: 'assistant', content: 'Got it.' },
      { role: 'user', content: TICKET },
    ],
  });
  expect(step && 'toolCalls' in step).toBe(true);
  const calls = (step as { toolCalls: { function: { arguments: string } }[] }).toolCalls;
  for (const c of calls)
    expect((JSON.parse(c.function.arguments) as { file_path: string }).file_path).toMatch(/^\/tmp\/ws\/space\/\S+$/);
});

test("aider's requests (no tools) are answered in the edit format its prompt names; other tool-less requests are not", () => {
  const whole = 'You MUST use this *file listing* format:\n\npath/to/filename.js\n```\n...\n```';
  const diff = 'Every *SEARCH/REPLACE block* must use this format:\n<<<<<<< SEARCH\n=======\n>>>>>>> REPLACE';
  expect(aiderFormatOf([whole])).toBe('whole');
  expect(aiderFormatOf([diff])).toBe('diff');
  expect(aiderFormatOf(['plain'])).toBeUndefined();
  expect(
    cliAgentStep({ system: 'You are the Boss.', tools: undefined, messages: [{ role: 'user', content: TICKET }] }),
  ).toBeUndefined();
  const step = cliAgentStep({ system: whole, tools: undefined, messages: [{ role: 'user', content: TICKET }] });
  expect(step && 'text' in step && step.text).toMatch(/\n\S+\.md\n```\n[\s\S]+\n```\n$/);
  // A file that itself holds a fence gets a longer one, so aider does not end the listing early.
  const reply = aiderReply('whole', [{ path: 'a.md', content: '```js\nx\n```\n' }], 'done');
  expect(reply).toContain('a.md\n````\n```js\nx\n```\n````');
  expect(aiderReply('diff', [{ path: 'b.txt', content: 'hi' }], 'done')).toBe(
    'done\n\nb.txt\n```\n<<<<<<< SEARCH\n=======\nhi\n>>>>>>> REPLACE\n```\n',
  );
});
