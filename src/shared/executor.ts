/**
 * A role's executor: a coding-agent CLI (Codex, Claude Code, OpenCode, Qwen Code, aider, or a
 * custom command) that works the role's tickets instead of Maestro's own agent loop. Plain data
 * both the workflows and the activities use. A run carries only the executor's name and bounds
 * (ExecutorSettings); the command of a `custom` one is defined by the worker's own configuration
 * (trusted with --trust-config), never by a run's input.
 */
import { z } from 'zod';
import type { SandboxLimits } from './tools';
import {
  DEFAULT_EXECUTOR_MAX_CALLS,
  DEFAULT_EXECUTOR_RETRIES,
  DEFAULT_EXECUTOR_WALL_MS,
  EXECUTOR_AGENTS,
  MAX_EXECUTOR_MAX_CALLS,
  MAX_EXECUTOR_RETRIES,
  MAX_EXECUTOR_WALL_MS,
  type ExecutorAgent as ExecutorAgentName,
  type ExecutorSettings,
} from './executor-settings';

export {
  DEFAULT_EXECUTOR_MAX_CALLS,
  DEFAULT_EXECUTOR_RETRIES,
  DEFAULT_EXECUTOR_WALL_MS,
  EXECUTOR_AGENTS,
  hasExecutor,
  MAX_EXECUTOR_MAX_CALLS,
  MAX_EXECUTOR_WALL_MS,
  type ExecutorSettings,
} from './executor-settings';

/** Control, bidi and zero-width characters: no program name or model has them, terminals obey them. */
const UNSHOWN = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/;
/** One name (program, model): no control or invisible character. */
const name = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((s) => !UNSHOWN.test(s), 'has a control or invisible character (NUL, escape, bidi...): remove it');

/** An executor's name. */
export const ExecutorAgent = z.enum(EXECUTOR_AGENTS);
export type ExecutorAgent = ExecutorAgentName;

/**
 * The `executor` key of a role in maestro.config.json. `custom` needs `command` (a program the
 * worker starts inside the sandbox, so the file needs --trust-config); the known CLIs take none.
 */
export const ExecutorConfig = z
  .object({
    agent: ExecutorAgent.describe('which coding-agent CLI works the tickets'),
    /** The model the CLI asks for (the gateway forwards to the role's provider); unset: the role's model. */
    model: name(200).optional().describe("the model the CLI asks for (default: the role's model)"),
    /** `custom` only: the program to run (a name on PATH or an absolute path) and its arguments. */
    command: name(500).optional().describe('`custom` only: the program to run (a name on PATH or an absolute path)'),
    /** `custom` only. `{prompt}`, `{promptFile}`, `{baseUrl}` and `{model}` are replaced. */
    args: z
      .array(
        z
          .string()
          .max(2000)
          .refine((s) => !s.includes('\0'), 'has a NUL character, which no program argument can hold: remove it'),
      )
      .max(50)
      .optional()
      .describe('`custom` only: its arguments; `{prompt}`, `{promptFile}`, `{baseUrl}` and `{model}` are replaced'),
    /** Wall time of one attempt in ms (default 10 minutes): the CLI's whole process tree is killed then. */
    wallMs: z.number().int().min(1000).max(MAX_EXECUTOR_WALL_MS).optional().meta({
      description: 'wall time of one attempt, ms; the whole process tree is killed then',
      default: DEFAULT_EXECUTOR_WALL_MS,
    }),
    /** Model calls one attempt may make (default 40): the gateway refuses the next one. */
    maxCalls: z
      .number()
      .int()
      .min(1)
      .max(MAX_EXECUTOR_MAX_CALLS)
      .optional()
      .meta({ description: 'model calls one attempt may make', default: DEFAULT_EXECUTOR_MAX_CALLS }),
    /** Starts of one attempt after infrastructure failures (default 2, at most 10). */
    maxRetries: z
      .number()
      .int()
      .min(0)
      .max(MAX_EXECUTOR_RETRIES)
      .optional()
      .meta({ description: 'starts of one attempt after infrastructure failures', default: DEFAULT_EXECUTOR_RETRIES }),
  })
  .strict()
  .superRefine((e, ctx) => {
    if (e.agent === 'custom' && e.command === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['command'],
        message: 'required for agent "custom": the program to run, e.g. "my-agent"',
      });
    if (e.agent !== 'custom')
      for (const key of ['command', 'args'] as const)
        if (e[key] !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `only applies to agent "custom" (Maestro runs ${e.agent} with its own flags)`,
          });
  });
export type ExecutorConfig = z.infer<typeof ExecutorConfig>;

/** The run's view of an executor configuration: the command and arguments stay on the worker. */
export function executorSettingsOf(config: ExecutorConfig, limits?: SandboxLimits): ExecutorSettings {
  return {
    agent: config.agent,
    ...(config.model !== undefined ? { model: config.model } : {}),
    ...(config.wallMs !== undefined ? { wallMs: config.wallMs } : {}),
    ...(config.maxCalls !== undefined ? { maxCalls: config.maxCalls } : {}),
    ...(config.maxRetries !== undefined ? { maxRetries: config.maxRetries } : {}),
    ...(limits ? { limits: { ...limits } } : {}),
  };
}
