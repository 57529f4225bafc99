/** `maestro run` (start, follow, assemble the output) and `maestro start` (start and return). */
import path from 'node:path';
import type { Command } from 'commander';
import { directivesOf } from '../../dev/sim-llm/subject';
import { terminalLine } from '../../shared/model-text';
import { describeFailure, InputError, newRunId, runIdInUse, validateGoal } from '../api';
import { isCancelledRun } from '../run-views';
import type { MaestroRunResult } from '../cancelled-result';
import { EXIT } from '../exit-codes';
import { answerGate } from '../gate-prompt';
import { addRunFlags, startOptions, type RunFlags } from '../run-flags';
import { followRun } from '../follow';
import { printableResult, resultText, runUrl } from '../format';
import { startedRunNotice } from '../../dev/worker-choice';
import { fetchMissingArtifacts } from '../fetch-artifacts';
import { assembleRunOutput, checkOutputDir, outputDir } from '../output';
import { parseOutOption } from '../options';
import { workflowPollers } from '../pollers';
import { unpolledRoleQueueWarnings } from '../role-queues';
import { withSession } from '../session';
import { resultExitCode } from './inspect';
import { ConfigError, runRoles } from '../../config';
import { checkRepoArgs, deliverRunBranch, prepareRepoRun, type PreparedRepoRun } from '../repo-run';

/** Most tickets a plan may have (the Plan schema's maximum). */
const MAX_PLAN_TICKETS = 100;

/** Says when a simulated-LLM directive in the goal asks for more than the simulated Boss will plan. */
function noteCappedDirectives(goal: string, log: (line: string) => void): void {
  const n = directivesOf(goal).tickets;
  if (n !== undefined && (n > MAX_PLAN_TICKETS || n < 1)) {
    const planned = Math.min(MAX_PLAN_TICKETS, Math.max(1, n));
    log(
      `Note: [sim:tickets=${n}] is capped to ${planned}: a plan has 1 to ${MAX_PLAN_TICKETS} tickets, so the simulated Boss plans ${planned}.`,
    );
  }
}

/** Refuses the repo flags without `--repo`, and `--repo` with `--epics`. */
function checkRepoFlags(flags: RunFlags): void {
  if (!flags.repo && (flags.base !== undefined || flags.testCommand !== undefined))
    throw new InputError('--base and --test-command only apply with --repo <path>.');
  if (flags.repo && flags.epics)
    throw new InputError('--repo and --epics do not go together yet: a run on a repository plans its tickets itself.');
}

/** The start options of a prepared repo run: its repository and, when needed, the repo roles. */
function repoStartOptions(prepared: PreparedRepoRun | undefined) {
  if (!prepared) return {};
  return { repo: prepared.repo, ...(prepared.roles ? { roles: prepared.roles } : {}) };
}

/** Packs the repository `--repo` names for run `runId` (undefined without `--repo`). */
function prepareRepoFlags(
  flags: RunFlags,
  config: Parameters<typeof prepareRepoRun>[0]['config'],
  runId: string,
  log: (line: string) => void,
): Promise<PreparedRepoRun | undefined> {
  if (!flags.repo) return Promise.resolve(undefined);
  return prepareRepoRun({
    config,
    runId,
    repoPath: flags.repo,
    base: flags.base,
    testCommand: flags.testCommand,
    log,
  });
}

/** Registers `run` and `start`. */
export function registerRunCommands(program: Command): void {
  addRunFlags(
    program
      .command('run')
      .description('run a goal to the end: plan, execute tickets, review, assemble the produced files')
      .argument('<goal>', 'what the agents should produce, in words')
      .option(
        '--out <dir>',
        'folder to assemble the produced files in (default: <MAESTRO_HOME>/output/<runId>)',
        parseOutOption,
      )
      .option('--force', 'assemble into a folder that already has other files (files of the same name are replaced)')
      .option(
        '--yes',
        'approve plan and final gates and tool calls automatically (for scripts); a ticket not accepted on its merits is skipped, a budget gate stops the run',
      )
      .option(
        '--accept-failing',
        'with --yes: accept a ticket that was not accepted on its merits anyway; the run then ends partial (exit 3) and shows it as "accepted over failing checks"',
      ),
  ).action(async (goalArg: string, flags: RunFlags & { force?: boolean; acceptFailing?: boolean }) => {
    const goal = validateGoal(goalArg);
    checkRepoFlags(flags);
    if (flags.repo) await checkRepoArgs(flags.repo, flags.base);
    if (flags.repo && (flags.out !== undefined || flags.force))
      throw new InputError(
        '--out and --force do not apply with --repo: a run on a repository delivers a branch in it, not a folder of files.',
      );
    if (flags.acceptFailing && !flags.yes)
      throw new InputError(
        '--accept-failing only applies with --yes (it lets --yes accept tickets that failed); without --yes, decide each ticket gate yourself.',
      );
    const code = await withSession(
      { worker: 'auto', server: 'start', command: 'run', ownWebhooks: flags.notify ?? [] },
      async ({ config, runtime, api, log, follow }) => {
        // Refuse an output folder that cannot be written before spending anything on the run.
        const plannedId = flags.runId ?? newRunId();
        const existing = await api.client.workflow
          .getHandle(plannedId)
          .describe()
          .catch(() => undefined);
        if (existing && !(flags.reuseId && existing.status.name !== 'RUNNING'))
          throw runIdInUse(plannedId, existing.status.name === 'RUNNING');
        if (!flags.repo) await checkOutputDir(outputDir(config, plannedId, flags.out), { force: flags.force });
        if (config.llm.simulated) noteCappedDirectives(goal, log);
        // This session's own worker cannot check pages: say so now, not after a Tester's turns.
        if (runtime.browserProblem && runtime.workers.length > 0) throw new ConfigError(runtime.browserProblem);
        const prepared = await prepareRepoFlags(flags, config, plannedId, log);
        const runId = await api.start(goal, {
          ...startOptions(flags),
          runId: plannedId,
          ...repoStartOptions(prepared),
        });
        follow(runId);
        log(`Run ${runId} started on ${runtime.address} (task queue ${config.temporal.taskQueue}).`);
        if (runtime.uiUrl) log(`Web UI: ${runUrl(runtime.uiUrl, config.temporal.namespace, runId)}`);
        for (const w of await unpolledRoleQueueWarnings({
          client: api.client,
          namespace: config.temporal.namespace,
          roles: runRoles(config),
        }))
          log(w);
        const mode = flags.yes
          ? flags.acceptFailing
            ? 'yes-accept-failing'
            : 'yes'
          : process.stdin.isTTY
            ? 'ask'
            : 'print';
        await followRun(api, runId, log, 250, (gate) => answerGate(api, runId, gate, mode, log));
        let result: MaestroRunResult | undefined;
        let failure: unknown;
        try {
          result = await api.result(runId);
        } catch (err) {
          failure = err;
        }
        // A cancelled run's result is what it had accepted: `maestro result` assembles it.
        if (result === undefined || result.status === 'cancelled') {
          log(
            `Run ${runId} ${result || isCancelledRun(failure) ? 'was cancelled' : `failed: ${terminalLine(describeFailure(failure))}`}`,
          );
          log(
            `Inspect it with \`maestro status ${runId}\`${runtime.uiUrl ? ' or in the Web UI' : ''}; \`maestro result ${runId}\` assembles what was accepted.`,
          );
          return EXIT.failed;
        }
        if (prepared) {
          console.log(`\nRun ${runId} finished.`);
          console.log(resultText(printableResult(result)));
          if (result.status === 'completed' || result.status === 'partial')
            await deliverRunBranch({
              client: api.client,
              home: config.home,
              runId,
              repo: result.repo,
              repoPath: prepared.top,
              log,
            });
          else
            log(
              `The run ended ${result.status}: its branch was not fetched. To fetch it anyway: \`maestro result ${runId} --repo ${prepared.top}\`.`,
            );
          return resultExitCode(result.status);
        }
        const { outDir, files } = await assembleRunOutput(config, result, {
          out: flags.out,
          force: flags.force,
          // Files the local store lacks come from the run's worker (another disk; see fetch-artifacts.ts).
          fetchMissing: async (artifacts) => {
            await fetchMissingArtifacts({ client: api.client, home: config.home, runId, artifacts, log });
          },
        });
        console.log(`\nRun ${runId} finished.`);
        console.log(resultText(printableResult(result)));
        if (config.llm.simulated && !runtime.otherWorkerSettings)
          console.log('(Simulated LLM: costs use simulated prices; no provider was called.)');
        console.log(`Files (${files.length}) assembled in: ${outDir}`);
        for (const f of files) console.log(`  ${path.relative(outDir, f)}`);
        if (runtime.uiUrl) {
          const link = runUrl(runtime.uiUrl, config.temporal.namespace, runId);
          console.log(runtime.devServer ? `Web UI (while \`maestro dev\` runs): ${link}` : `Web UI: ${link}`);
        }
        return resultExitCode(result.status);
      },
    );
    process.exitCode = code;
  });

  addRunFlags(
    program
      .command('start')
      .description('start a run and print its id; a worker (`maestro dev` or `maestro worker`) executes it')
      .argument('<goal>', 'what the agents should produce, in words'),
  ).action(async (goalArg: string, flags: RunFlags) => {
    const goal = validateGoal(goalArg);
    checkRepoFlags(flags);
    if (flags.repo) await checkRepoArgs(flags.repo, flags.base);
    await withSession({ worker: 'never', server: 'start', command: 'start' }, async ({ api, runtime, config, log }) => {
      noteCappedDirectives(goal, log);
      const plannedId = flags.runId ?? newRunId();
      const prepared = await prepareRepoFlags(flags, config, plannedId, log);
      const runId = await api.start(goal, { ...startOptions(flags), runId: plannedId, ...repoStartOptions(prepared) });
      console.log(runId);
      if (prepared)
        log(`When it has finished, fetch its branch with \`maestro result ${runId} --repo ${prepared.top}\`.`);
      if (runtime.devServer) {
        log(
          `Note: no Temporal server was running, so a temporary one was started and is now stopped again; the run waits there until you start \`maestro dev\` (then \`maestro watch ${runId}\`).`,
        );
      }
      const notice = runtime.devServer
        ? undefined
        : startedRunNotice(config, await workflowPollers(api.client, config.temporal.taskQueue));
      if (notice) log(notice);
      if (runtime.uiUrl && !runtime.devServer)
        log(`Web UI: ${runUrl(runtime.uiUrl, config.temporal.namespace, runId)}`);
    });
  });
}
