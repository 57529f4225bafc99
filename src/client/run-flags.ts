/** Flags shared by `maestro run` and `maestro start`, and their mapping to run options. */
import { InvalidArgumentError, type Command } from 'commander';
import type { StartRunOptions } from './api';
import {
  collectGateTimeout,
  parseChoiceOption,
  parseIntOption,
  parsePositiveOption,
  parseRunIdOption,
  type GateTimeoutFlag,
} from './options';

/** Parsed run flags. */
export interface RunFlags {
  out?: string;
  maxParallel?: number;
  maxRevisions?: number;
  maxReplans?: number;
  maxReopens?: number;
  runId?: string;
  reuseId?: boolean;
  yes?: boolean;
  planApproval?: 'manual' | 'auto';
  finalApproval?: 'manual' | 'auto';
  budgetUsd?: number;
  budgetTokens?: number;
  ticketBudgetUsd?: number;
  ticketBudgetTokens?: number;
  gateTimeout?: GateTimeoutFlag[];
  notify?: string[];
  epics?: boolean;
  /** `--repo`: work on this git repository and deliver a branch (see repo-run.ts). */
  repo?: string;
  base?: string;
  testCommand?: string;
}

/** Adds the run flags to a command. */
export function addRunFlags(cmd: Command): Command {
  const approval = ['manual', 'auto'] as const;
  return cmd
    .option(
      '--max-parallel <n>',
      'tickets running at once (1-100, default 4)',
      parseIntOption('--max-parallel', 1, 100),
    )
    .option(
      '--max-revisions <n>',
      'revisions per ticket before escalation (0-10, default 2)',
      parseIntOption('--max-revisions', 0, 10),
    )
    .option(
      '--max-replans <n>',
      're-plans after an invalid or rejected plan (0-10, default 2)',
      parseIntOption('--max-replans', 0, 10),
    )
    .option(
      '--max-reopens <n>',
      'times a ticket is sent back because a ticket testing it failed a check (0-10, default 2)',
      parseIntOption('--max-reopens', 0, 10),
    )
    .option(
      '--plan-approval <mode>',
      'manual: a person approves the plan first (default auto)',
      parseChoiceOption('--plan-approval', approval),
    )
    .option(
      '--final-approval <mode>',
      'manual: a person approves the result (default auto)',
      parseChoiceOption('--final-approval', approval),
    )
    .option(
      '--budget-usd <usd>',
      'run budget in dollars; reaching it opens a budget gate',
      parsePositiveOption('--budget-usd', 1_000_000),
    )
    .option('--budget-tokens <n>', 'run budget in tokens (a whole number)', parseIntOption('--budget-tokens', 1, 1e12))
    .option(
      '--ticket-budget-usd <usd>',
      'budget of each ticket; reaching it escalates the ticket',
      parsePositiveOption('--ticket-budget-usd', 1_000_000),
    )
    .option(
      '--ticket-budget-tokens <n>',
      'token budget of each ticket (a whole number)',
      parseIntOption('--ticket-budget-tokens', 1, 1e12),
    )
    .option(
      '--gate-timeout <kind=duration[:policy]>',
      'how long a gate waits and what happens then, e.g. plan=2h:approve (repeatable; default: wait forever)',
      collectGateTimeout,
    )
    .option(
      '--run-id <id>',
      'choose the run id: letters, digits, . _ - (default: maestro-<time>-<random>); an id in use is refused',
      parseRunIdOption,
    )
    .option(
      '--epics',
      'let the Boss hand large parts of the goal to sub-Bosses as epics (each plans up to 100 tickets of its own; one level deep)',
    )
    .option(
      '--repo <path>',
      'work on this git repository: the result is a branch maestro/<runId> in it, one commit per ticket (your checkout, index and stash are never touched)',
      parseNonEmpty('--repo'),
    )
    .option(
      '--base <ref>',
      'with --repo: the commit the run starts from (branch, tag or commit id; default HEAD)',
      parseNonEmpty('--base'),
    )
    .option(
      '--test-command <cmd>',
      "with --repo: the repository's test command (default: maestro.config.json repo.testCommand, else detected)",
      parseNonEmpty('--test-command'),
    )
    .option('--reuse-id', 'with --run-id: start even when a finished run has that id (never while it runs)')
    .option(
      '--notify <url>',
      'webhook to POST to when a gate opens and when the run ends (repeatable; Slack incoming webhooks work as is)',
      (url: string, prev: string[] = []) => [...prev, url],
    );
}

/** The run options the flags ask for. */
export function startOptions(flags: RunFlags): StartRunOptions {
  const budget = (usd?: number, tokens?: number) =>
    usd !== undefined || tokens !== undefined
      ? { ...(usd !== undefined ? { usd } : {}), ...(tokens !== undefined ? { tokens } : {}) }
      : undefined;
  const gatePolicies = flags.gateTimeout?.length
    ? Object.fromEntries(flags.gateTimeout.map((g) => [g.kind, { timeoutMs: g.timeoutMs, onTimeout: g.onTimeout }]))
    : undefined;
  return {
    runId: flags.runId,
    reuseId: flags.reuseId,
    maxParallel: flags.maxParallel,
    maxRevisions: flags.maxRevisions,
    maxReplans: flags.maxReplans,
    maxReopens: flags.maxReopens,
    planApproval: flags.planApproval,
    finalApproval: flags.finalApproval,
    budget: budget(flags.budgetUsd, flags.budgetTokens),
    ticketBudget: budget(flags.ticketBudgetUsd, flags.ticketBudgetTokens),
    gatePolicies,
    notify: flags.notify,
    ...(flags.epics ? { epics: true } : {}),
  };
}

/** A flag value that must not be empty. */
function parseNonEmpty(flag: string): (value: string) => string {
  return (value: string) => {
    if (value.trim() === '') throw new InvalidArgumentError(`${flag} is empty: give a value.`);
    return value;
  };
}
