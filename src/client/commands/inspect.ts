/** `maestro status`, `maestro result` and `maestro list`: read runs without changing them. */
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Command } from 'commander';
import { ticketWorkflowId } from '../../shared/constants';
import { printable, printableDeep } from '../../shared/control-chars';
import { terminalJson, terminalLine } from '../../shared/model-text';
import { describeFailure, InputError, type MaestroClient, type RunListItem } from '../api';
import { EXIT, UnavailableError } from '../exit-codes';
import { printableResult, resultText, statusText, usd } from '../format';
import { LIST_PHASES, parsePhaseOption, parseSinceOption, type ListPhase } from '../list-filters';
import { parseIntOption, parseOutOption, parseRunIdOption, parseTicketIdOption } from '../options';
import { fetchMissingArtifacts } from '../fetch-artifacts';
import { assembleRunOutput } from '../output';
import { acceptedFromHistory } from '../partial-result';
import { deliverRunBranch, seriesText } from '../repo-run';
import { withSession } from '../session';
import type { RunResult } from '../../shared/types';
import type { orchestratorWorkflow } from '../../workflows';
import { duration } from '../watch/render';

/** Runs `fn`, turning "workflow not found" into a message that says what to do. */
export async function knownRun<T>(runId: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      throw new InputError(`There is no run with id ${runId}; see \`maestro list\`.`);
    throw err;
  }
}

/** The result of a run Temporal reports COMPLETED (a cancelled run is read from its history instead). */
async function completedResult(api: MaestroClient, runId: string): Promise<RunResult> {
  return api.client.workflow.getHandle<typeof orchestratorWorkflow>(runId).result();
}

/** Exit code of a finished run's result status: completed 0, partial/stopped/rejected 3. */
export function resultExitCode(status: string): number {
  return status === 'completed' ? EXIT.ok : EXIT.partial;
}

async function resultCommand(
  api: MaestroClient,
  runId: string,
  flags: { out?: string; json?: boolean; force?: boolean; patch?: boolean; repo?: string },
  config: Parameters<typeof assembleRunOutput>[0],
  log: (line: string) => void,
): Promise<number> {
  // Files the local store lacks come from the run's worker (another disk; see fetch-artifacts.ts).
  const fetchMissing = async (artifacts: Parameters<typeof fetchMissingArtifacts>[0]['artifacts']) => {
    await fetchMissingArtifacts({ client: api.client, home: config.home, runId, artifacts, log });
  };
  const desc = await knownRun(runId, () => api.client.workflow.getHandle(runId).describe());
  if (desc.status.name === 'RUNNING') {
    throw new UnavailableError(`Run ${runId} is still running; follow it with \`maestro watch ${runId}\`.`);
  }
  if (desc.status.name === 'COMPLETED' && (flags.patch || flags.repo)) {
    const result = await completedResult(api, runId);
    const repoOpts = { client: api.client, home: config.home, runId, repo: result.repo, log };
    if (flags.patch) process.stdout.write(await seriesText({ ...repoOpts, tty: process.stdout.isTTY === true }));
    if (flags.repo) await deliverRunBranch({ ...repoOpts, repoPath: flags.repo });
    return resultExitCode(result.status);
  }
  if (flags.patch || flags.repo)
    throw new UnavailableError(
      `Run ${runId} ${desc.status.name === 'CANCELLED' ? 'was cancelled' : 'failed'}: it has no branch; \`maestro result ${runId}\` shows what was accepted.`,
    );
  if (desc.status.name === 'COMPLETED') {
    const result = await completedResult(api, runId);
    const { outDir, files } = await assembleRunOutput(config, result, { ...flags, fetchMissing });
    if (flags.json) console.log(terminalJson({ ...result, outputDir: outDir }, 2));
    else console.log(`${resultText(printableResult(result))}\nFiles (${files.length}) in: ${outDir}`);
    return resultExitCode(result.status);
  }
  // Failed or cancelled: no result, but the tickets accepted before are in the history.
  const why =
    desc.status.name === 'CANCELLED'
      ? 'was cancelled'
      : `failed: ${terminalLine(describeFailure(await api.result(runId).catch((e: unknown) => e)))}`;
  const accepted = await acceptedFromHistory(api.client, runId);
  const status = desc.status.name.toLowerCase();
  console.error(`Run ${runId} ${why}`);
  if (accepted.manifest.length === 0) {
    console.error('No ticket was accepted before it ended, so there are no files to assemble.');
    // Scripts read stdout: a run that failed (in planning, say) is JSON too, with why and the exit code.
    if (flags.json)
      console.log(terminalJson({ ...accepted, status, error: `Run ${runId} ${why}`, exitCode: EXIT.failed }, 2));
  } else {
    const { outDir, files } = await assembleRunOutput(config, accepted, { ...flags, fetchMissing });
    const planned = (await api.status(runId).catch(() => undefined))?.tickets ?? [];
    const missing = planned.filter((t) => !accepted.ticketIds.includes(t.id)).map((t) => `${t.id} (${t.state})`);
    const ids = [...accepted.ticketIds].sort((x, y) => Number(x.slice(1)) - Number(y.slice(1)));
    console.error(
      `Assembled what was accepted before it ended: tickets ${ids.join(', ')} — ${files.length} file(s) in ${outDir}. ` +
        (planned.length === 0
          ? `Missing: whatever the other tickets would have produced (see \`maestro status ${runId}\`).`
          : missing.length > 0
            ? `Missing: the files of ${missing.join(', ')}.`
            : 'Every ticket had been accepted; missing is only the final report.'),
    );
    if (flags.json)
      console.log(
        terminalJson(
          { ...accepted, status, error: `Run ${runId} ${why}`, exitCode: EXIT.failed, outputDir: outDir },
          2,
        ),
      );
  }
  return EXIT.failed;
}

/** Registers the read-only commands. */
export function registerInspectCommands(program: Command): void {
  program
    .command('status')
    .description("show a run's phase, tickets and cost")
    .argument('<runId>', 'the run id printed by `maestro run`/`maestro start`', parseRunIdOption)
    .option(
      '--json',
      'print JSON (stable fields: runId, phase, tickets[id, role, title, state], pendingGates, cost{usd, tokens})',
    )
    .option(
      '--epic <id>',
      'show the sub-run of this epic ticket (e.g. T3) with all its tickets',
      parseTicketIdOption('--epic'),
    )
    .action(async (topRunId: string, flags: { json?: boolean; epic?: string }) => {
      // An epic's sub-run is a run of its own, with the id `<runId>/<epic>`.
      const runId = flags.epic ? ticketWorkflowId(topRunId, flags.epic) : topRunId;
      await withSession({ worker: 'never', server: 'start', command: 'status' }, async ({ api }) => {
        const status = await knownRun(runId, () => api.status(runId));
        console.log(flags.json ? terminalJson(status, 2) : statusText(printableDeep(status)));
      });
    });

  program
    .command('result')
    .description(
      "print a finished run's report and assemble its files (of a cancelled or failed run: what was accepted)",
    )
    .argument('<runId>', 'the run id', parseRunIdOption)
    .option(
      '--out <dir>',
      'folder to write the produced files to (default: <MAESTRO_HOME>/output/<runId>)',
      parseOutOption,
    )
    .option('--force', 'write into a folder that already has other files (files of the same name are replaced)')
    .option('--json', 'print the whole result as JSON')
    .option(
      '--patch',
      'a run on a repository: print its commits as `git format-patch` text, in order (pipe to `git am`)',
    )
    .option('--repo <path>', 'a run on a repository: fetch its branch maestro/<runId> into this repository')
    .action(
      async (
        runId: string,
        flags: { out?: string; json?: boolean; force?: boolean; patch?: boolean; repo?: string },
      ) => {
        process.exitCode = await withSession(
          { worker: 'never', server: 'start', command: 'result' },
          ({ api, config, log }) => resultCommand(api, runId, flags, config, log),
        );
      },
    );

  program
    .command('list')
    .description('list recent runs, newest first, optionally by phase and start time')
    .option('--limit <n>', 'how many (1-1000, default 20)', parseIntOption('--limit', 1, 1000), 20)
    .option(`--phase <phase>`, `only runs in this phase: ${LIST_PHASES.join(', ')}`, parsePhaseOption)
    .option('--since <when>', 'only runs started after this: a duration back (30m, 2h, 3d, 1w) or an ISO date', (v) =>
      parseSinceOption(v),
    )
    .option('--all', "also list epics' sub-runs (marked with their parent run); by default only top-level runs")
    .option(
      '--json',
      'print JSON: an array of { runId, status, phase?, goal, startTime, closeTime?, costUsd?, subRunCount?, parentRunId? }',
    )
    .action(async (flags: { limit: number; phase?: ListPhase; since?: Date; all?: boolean; json?: boolean }) => {
      await withSession({ worker: 'never', server: 'start', command: 'list' }, async ({ api, log }) => {
        const { runs, note } = await api.listRuns({
          limit: flags.limit,
          phase: flags.phase,
          since: flags.since,
          subRuns: flags.all === true,
        });
        if (note) log(`Note: ${note}`);
        if (flags.json) {
          console.log(terminalJson(runs, 2));
          return;
        }
        if (runs.length === 0) {
          const filtered = flags.phase !== undefined || flags.since !== undefined;
          console.log(
            filtered ? 'No runs match these filters.' : 'No runs yet. Start one with `maestro run "<goal>"`.',
          );
          return;
        }
        const now = Date.now();
        const idW = Math.max(6, ...runs.map((r) => r.runId.length));
        const subW = Math.max(8, ...runs.map((r) => subRunsCell(r).length));
        console.log(
          `${'RUN ID'.padEnd(idW)}  ${'PHASE'.padEnd(17)}  ${'STARTED'.padEnd(20)}  ${'TOOK'.padStart(7)}  ${'COST'.padStart(8)}  ${'SUB-RUNS'.padEnd(subW)}  GOAL`,
        );
        for (const r of runs) {
          const took = duration((r.closeTime ?? new Date(now)).getTime() - r.startTime.getTime());
          const cost = r.costUsd !== undefined ? usd(r.costUsd) : '-';
          // A sub-run records no goal of its own: name its epic (the id after its parent's).
          const epic = r.parentRunId !== undefined && r.runId.startsWith(`${r.parentRunId}/`);
          const text = r.goal || (epic ? `(epic ${r.runId.slice(r.parentRunId!.length + 1)})` : '');
          const goal = terminalLine(text.replace(/\s+/g, ' ')).slice(0, 80);
          console.log(
            `${printable(r.runId).padEnd(idW)}  ${(r.phase ?? r.status.toLowerCase()).padEnd(17)}  ${r.startTime.toISOString().slice(0, 19)}Z  ${took.padStart(7)}  ${cost.padStart(8)}  ${subRunsCell(r).padEnd(subW)}  ${goal}`,
          );
        }
        const hidden = runs.reduce((n, r) => n + (r.subRunCount ?? 0), 0);
        if (!flags.all && hidden > 0)
          log(`(${hidden} sub-run(s) of epics not listed; \`maestro list --all\` includes them)`);
      });
    });
}

/** The SUB-RUNS column: a top run's count of sub-runs, or `of <parent>` on a sub-run. */
function subRunsCell(r: RunListItem): string {
  if (r.parentRunId !== undefined) return `of ${printable(r.parentRunId)}`;
  return r.subRunCount ? String(r.subRunCount) : '-';
}
