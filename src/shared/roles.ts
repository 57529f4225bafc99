/**
 * The worker roles Maestro ships with. The Boss sees each role's name and description when it
 * assigns tickets; the system prompt is what the worker is told about itself.
 */
import type { ExecutorSettings } from './executor-settings';
import { mcpServerRef, type AgentSettings } from './tools';
import type { RoleInfo } from './types';

/** A worker role as configured (maestro.config.json or the defaults below). */
export interface RoleDefinition extends RoleInfo {
  systemPrompt: string;
  /** Model of this role; unset: MAESTRO_MODEL or the default model. */
  model?: string;
  temperature?: number;
  /** Output-token limit of one answer (sent as `max_tokens` or `max_completion_tokens`). */
  maxTokens?: number;
  /** Structured-output mode: json_schema, json_object, tool or text (unset: the provider's). */
  outputMode?: 'json_schema' | 'json_object' | 'tool' | 'text';
  /** `reasoning_effort` for reasoning models. */
  reasoningEffort?: 'minimal' | 'low' | 'medium' | 'high';
  /**
   * A `custom` executor's program and arguments, from this worker's own (trusted) configuration:
   * never in RoleInfo, so no run can define what a worker executes.
   */
  executorCommand?: { command: string; args: string[] };
}

/**
 * What the workflows need to know about a role: no prompts (those stay on workers); the model
 * only as a label for the Web UI, since the worker's own configuration decides.
 */
export function roleInfoOf(role: RoleDefinition): RoleInfo {
  return {
    name: role.name,
    description: role.description,
    ...(role.taskQueue !== undefined ? { taskQueue: role.taskQueue } : {}),
    ...(role.retry !== undefined ? { retry: { ...role.retry } } : {}),
    ...(role.model !== undefined ? { model: role.model } : {}),
    ...(role.agent !== undefined ? { agent: agentInfoOf(role.agent) } : {}),
    ...(role.executor !== undefined ? { executor: executorInfoOf(role.executor) } : {}),
  };
}

/** A role's agent settings as a run carries them: MCP servers by name only (see McpServerRef). */
function agentInfoOf(agent: AgentSettings): AgentSettings {
  return { ...agent, tools: [...agent.tools], ...(agent.mcp ? { mcp: agent.mcp.map(mcpServerRef) } : {}) };
}

/** A role's executor as a run carries it: a copy of its name and bounds (the command never travels). */
function executorInfoOf(e: ExecutorSettings): ExecutorSettings {
  return { ...e, ...(e.limits ? { limits: { ...e.limits } } : {}) };
}

/** The Boss's name in cost-by-role tables and call records; no worker role may take it. */
export const BOSS_ROLE = 'boss';

/** Default worker roles (Coder, Designer, Tester, Writer). */
export const DEFAULT_ROLES: readonly RoleDefinition[] = [
  {
    name: 'designer',
    description: 'Visual and interaction design: colour palette, typography, layout, style sheets (CSS).',
    systemPrompt:
      'You are the Designer on a small team. You turn a design ticket into concrete, usable assets such as a style guide and CSS. Work only from the ticket you are given.',
  },
  {
    name: 'writer',
    description: 'Copy and documentation: page text, headlines, READMEs, user-facing wording.',
    systemPrompt:
      'You are the Writer on a small team. You write clear, concrete copy for exactly the ticket you are given, as files the team can use.',
  },
  {
    name: 'coder',
    description: 'Implementation: HTML, JavaScript/TypeScript and other source code that works as delivered.',
    systemPrompt:
      'You are the Coder on a small team. You implement exactly the ticket you are given, using the outputs of the tickets it depends on, and return complete, working files.',
  },
  {
    name: 'tester',
    description:
      "Verification: test plans, automated tests and checks of other tickets' output against their criteria.",
    systemPrompt:
      "You are the Tester on a small team. You verify the work handed to you against the ticket's acceptance criteria and deliver tests and a short test report.",
  },
];

/** Programs the repo roles' `run_command` asks for (a worker allows only those its own configuration does). */
const REPO_PROGRAMS = [
  'node',
  'npm',
  'npx',
  'go',
  'python3',
  'pytest',
  'cargo',
  'make',
  'ls',
  'cat',
  'grep',
  'head',
  'tail',
  'wc',
  'true',
  'false',
  'echo',
];

/**
 * Roles of a run on a git repository (`maestro run --repo`) when the configured roles have no
 * tools: a Coder and a Tester working as agents inside the ticket's worktree, able to read the
 * code, write files and run the repository's own tests.
 */
export const REPO_ROLES: readonly RoleDefinition[] = DEFAULT_ROLES.filter(
  (r) => r.name === 'coder' || r.name === 'tester',
).map((r) => ({
  ...r,
  description:
    r.name === 'coder'
      ? 'Implementation in the existing codebase: changes source files and adds the tests that prove the change.'
      : "Verification in the existing codebase: writes and runs tests of other tickets' changes with the repository's own test command.",
  systemPrompt:
    r.name === 'coder'
      ? "You are the Coder on a small team working in an existing git repository. Read the files your ticket names, change only the files it lets you change, follow the code's existing style, and run the repository's tests before you finish."
      : "You are the Tester on a small team working in an existing git repository. Write tests for the change your ticket names in the repository's existing test style and run them with the repository's test command.",
  agent: { tools: ['read_file', 'list_files', 'write_file', 'run_command'], programs: REPO_PROGRAMS },
}));

/** The Boss's own system prompt: it plans, reviews and reports, and never does the work. */
export const BOSS_SYSTEM_PROMPT =
  'You are the Boss of a team of specialised agents. You break goals into small, atomic tickets, assign each to exactly one role, review results strictly against their acceptance criteria, and report. You never produce the deliverables yourself.';
