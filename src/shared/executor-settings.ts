/**
 * A role's executor as workflows see it (no zod here: the ticket workflow imports it, and a
 * workflow evaluates every module it imports each time it starts). The config-file schema of the
 * `executor` key is in executor.ts.
 */
import type { SandboxLimits } from './tools';

/** The coding-agent CLIs Maestro knows how to drive headless, plus `custom` (command/args of the config). */
export const EXECUTOR_AGENTS = ['codex', 'claude-code', 'opencode', 'qwen-code', 'aider', 'custom'] as const;

/** An executor's name. */
export type ExecutorAgent = (typeof EXECUTOR_AGENTS)[number];

/** Wall time of one CLI attempt when the role sets none: 10 minutes. */
export const DEFAULT_EXECUTOR_WALL_MS = 600_000;

/** Highest wall time a role may give one CLI attempt: 2 hours (always finite). */
export const MAX_EXECUTOR_WALL_MS = 7_200_000;

/** Model calls one CLI attempt may make when the role sets none (the gateway refuses past it). */
export const DEFAULT_EXECUTOR_MAX_CALLS = 40;

/** Highest `maxCalls` a role may set. */
export const MAX_EXECUTOR_MAX_CALLS = 500;

/** Times one CLI attempt is started again after a failure (worker death, API errors...) by default. */
export const DEFAULT_EXECUTOR_RETRIES = 2;

/**
 * What a run carries of a role's executor: its name and bounds, never a command. The worker looks
 * up what to run in its own configuration.
 */
export interface ExecutorSettings {
  agent: ExecutorAgent;
  model?: string;
  wallMs?: number;
  maxCalls?: number;
  maxRetries?: number;
  /** The sandbox limits of the role (`sandbox` in the config), applied to the CLI's process tree. */
  limits?: SandboxLimits;
}

/** Highest `maxRetries` a role may set. */
export const MAX_EXECUTOR_RETRIES = 10;

/** `v` as a whole number within [min, max] when it is a finite number; else `fallback`. */
function bounded(v: unknown, min: number, max: number, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.min(max, Math.max(min, Math.round(v))) : fallback;
}

/**
 * The bounds a ticket workflow uses for a role's CLI attempts. A run's input comes from any
 * Temporal client, so its settings are not trusted to be what the config schema allows: a value
 * out of bounds is brought within them, one that is not a number is the default (never a string
 * concatenated, a NaN timeout or an unbounded retry policy).
 */
export function executorBounds(settings: ExecutorSettings | undefined): {
  wallMs: number;
  maxCalls: number;
  maxRetries: number;
} {
  return {
    wallMs: bounded(settings?.wallMs, 1000, MAX_EXECUTOR_WALL_MS, DEFAULT_EXECUTOR_WALL_MS),
    maxCalls: bounded(settings?.maxCalls, 1, MAX_EXECUTOR_MAX_CALLS, DEFAULT_EXECUTOR_MAX_CALLS),
    maxRetries: bounded(settings?.maxRetries, 0, MAX_EXECUTOR_RETRIES, DEFAULT_EXECUTOR_RETRIES),
  };
}

/** Whether a role's tickets are worked by a coding-agent CLI. */
export function hasExecutor(role: { executor?: ExecutorSettings } | undefined): boolean {
  return role?.executor !== undefined;
}
