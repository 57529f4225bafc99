/**
 * Agent settings in maestro.config.json: tools, turns, programs, sandbox limits, approvals and MCP
 * servers reach the run's roles; mistakes are refused with the key and what to fix.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, runRoles } from '../../src/config';
import { toolCallLines } from '../../src/client/tool-calls-text';
import { buildReviewPrompt } from '../../src/activities/roles/prompts';
import { failingCheckOf } from '../../src/dev/sim-llm/agent';
import { approvalOf, checksOf, isAgent, mcpToolOf, toolCallLabel } from '../../src/shared/tools';

function load(config: unknown) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-agent-config-'));
  writeFileSync(path.join(dir, 'maestro.config.json'), JSON.stringify(config));
  return loadConfig({ MAESTRO_TRUST_CONFIG: '1' }, dir);
}

function problem(config: unknown): string {
  try {
    load(config);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('agent settings in maestro.config.json', () => {
  it('turn a role with tools or MCP servers into an agent; others stay single-call', () => {
    const c = load({
      roles: [
        { name: 'writer' },
        {
          name: 'tester',
          tools: ['run_command', 'check_page'],
          maxTurns: 8,
          maxToolCallsPerTurn: 4,
          programs: ['node'],
          sandbox: { timeoutMs: 5000 },
          approvals: { run_command: 'first-use', files__read: 'always' },
          mcpServers: [{ name: 'files', command: 'node', args: ['server.mjs'], approval: 'never' }],
        },
      ],
    });
    const [writer, tester] = runRoles(c);
    expect(writer!.agent).toBeUndefined();
    expect(isAgent(writer!.agent)).toBe(false);
    expect(tester!.agent).toEqual({
      tools: ['run_command', 'check_page'],
      maxTurns: 8,
      maxToolCallsPerTurn: 4,
      programs: ['node'],
      limits: { timeoutMs: 5000 },
      approvals: { run_command: 'first-use', files__read: 'always' },
      // A run carries the server's name only; the worker's own configuration says what it is.
      mcp: [{ name: 'files', approval: 'never' }],
    });
    expect(c.mcpServers).toEqual([{ name: 'files', command: 'node', args: ['server.mjs'], approval: 'never' }]);
    const agent = tester!.agent!;
    expect(approvalOf(agent, 'run_command')).toBe('first-use');
    expect(approvalOf(agent, 'check_page')).toBe('never');
    expect(approvalOf(agent, 'files__read')).toBe('always');
    expect(mcpToolOf('files__list_dir', agent.mcp)).toEqual({ server: agent.mcp![0], tool: 'list_dir' });
    expect(mcpToolOf('other__x', agent.mcp)).toBeUndefined();
  });

  it('refuses unknown tools, agent keys without tools, approvals of absent tools and half-set MCP servers', () => {
    expect(problem({ roles: [{ name: 'coder', tools: ['rm_rf'] }] })).toMatch(/roles\[0\]\.tools\[0\]/);
    expect(problem({ roles: [{ name: 'coder', maxTurns: 3 }] })).toMatch(
      /roles\[0\]\.maxTurns: only applies to a role with "tools" or "mcpServers"/,
    );
    expect(problem({ roles: [{ name: 'coder', tools: ['read_file'], approvals: { run_command: 'always' } }] })).toMatch(
      /roles\[0\]\.approvals\.run_command: "run_command" is not one of this role's tools/,
    );
    expect(problem({ roles: [{ name: 'coder', mcpServers: [{ name: 'x' }] }] })).toMatch(
      /give either "command" \(stdio\) or "url" \(streamable HTTP\)/,
    );
    expect(problem({ roles: [{ name: 'coder', tools: ['run_command'], programs: ['/bin/sh'] }] })).toMatch(/no paths/);
    expect(problem({ roles: [{ name: 'coder', tools: ['read_file'], maxToolCallsPerTurn: 65 }] })).toMatch(
      /roles\[0\]\.maxToolCallsPerTurn/,
    );
    expect(problem({ roles: [{ name: 'coder', maxToolCallsPerTurn: 3 }] })).toMatch(
      /roles\[0\]\.maxToolCallsPerTurn: only applies to a role with "tools" or "mcpServers"/,
    );
  });

  it('labels tool calls for activity summaries', () => {
    expect(toolCallLabel({ id: '1', name: 'run_command', arguments: '{"command":"npm test"}' })).toBe(
      'run_command npm test',
    );
    expect(toolCallLabel({ id: '2', name: 'write_file', arguments: '{"path":"a.js","content":"x"}' })).toBe(
      'write_file a.js',
    );
    expect(toolCallLabel({ id: '3', name: 'list_files', arguments: 'not json' })).toBe('list_files');
  });
});

describe('tool calls in the terminal', () => {
  it('counts failures and lists each call with its turn, status, exit code, time and size', () => {
    const base = { role: 'tester', ticketId: 'T4', startedAt: '2026-01-01T00:00:00Z', attempt: 1 };
    const lines = toolCallLines([
      { ...base, tool: 'list_files', turn: 1, summary: 'list_files', durationMs: 3, status: 'ok', bytes: 80 },
      {
        ...base,
        tool: 'run_command',
        turn: 2,
        summary: 'run_command npm test',
        durationMs: 812,
        status: 'error',
        exitCode: 1,
        bytes: 2048,
      },
    ]);
    expect(lines).toEqual([
      'Tool calls: 2 (1 failed), 815 ms in tools',
      '  T4 tester turn 1: list_files — ok, 3 ms, 80 B',
      '  T4 tester turn 2: run_command npm test — error, exit 1, 812 ms, 2.0 kB',
    ]);
    expect(toolCallLines(undefined)).toEqual([]);
  });
});

describe('the review of an agent result sees the checks it ran', () => {
  const base = {
    role: 'coder',
    ticketId: 'T3',
    startedAt: '2026-01-01T00:00:00Z',
    attempt: 1,
    bytes: 10,
    durationMs: 5,
  };
  const page = (status: 'ok' | 'error', turn: number) =>
    ({ ...base, tool: 'check_page', turn, summary: 'check_page index.html', status }) as const;
  const review = (checks: string[]) =>
    buildReviewPrompt({
      bossSystemPrompt: 'Boss',
      ticket: {
        id: 'T3',
        role: 'coder',
        title: 'Page',
        spec: 'Build it',
        acceptanceCriteria: ['works'],
        dependsOn: [],
      },
      summary: 'done',
      files: [],
      attempt: 1,
      revisionsLeft: 1,
      checks,
    }).user;

  it('lists commands and page checks with their outcomes; the last run of a check decides', () => {
    const listed = { ...base, tool: 'list_files', turn: 1, summary: 'list_files', status: 'ok' } as const;
    const checks = checksOf([listed, page('error', 2), page('ok', 3)]);
    expect(checks).toEqual(['check_page index.html — FAILED', 'check_page index.html — passed']);
    expect(review(checks)).toContain(
      '## Checks the agent ran (oldest first; the last run of each counts)\n- check_page index.html — FAILED\n- check_page index.html — passed',
    );
    expect(failingCheckOf(review(checks))).toBeUndefined();
    expect(failingCheckOf(review(checksOf([page('ok', 2), page('error', 3)])))).toBe(
      'The check "check_page index.html" still fails: fix what it reports and run it again.',
    );
  });
});
