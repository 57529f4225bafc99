/**
 * `runExecutor`: one attempt of a ticket by the coding-agent CLI of its role. The space is rebuilt
 * from the store, the CLI gets a prompt file with only its ticket brief, inputs and feedback, runs
 * in run_command's sandbox with the LLM gateway as its only way out, and reports progress from
 * its event stream as heartbeat details. Its result is the files it changed, its summary, and the
 * gateway's call records (billed whatever happens: a failure carries them in its details, and a
 * retry after a worker's death keeps the earlier attempts' records from the heartbeats, so none is
 * booked twice).
 */
import path from 'node:path';
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';
import { DEFAULT_EXECUTOR_MAX_CALLS, DEFAULT_EXECUTOR_WALL_MS } from '../../shared/executor';
import { FailureType } from '../../shared/errors';
import type { Ticket } from '../../shared/schemas';
import type { RepoWork } from '../../shared/repo';
import type { ArtifactRef, LlmCallRecord, TicketOutput } from '../../shared/types';
import { addUsage, emptyUsage, usageOfRecord, type Usage } from '../../shared/usage';
import { earlierCalls, failureWithCalls, WORKER_IDENTITY } from '../context';
import type { ActivityDeps } from '../deps';
import { dependencyViews, workerRole } from '../roles/worker';
import { DEFAULT_SANDBOX_LIMITS } from '../tools/sandbox';
import { TOOLCHAIN_TMP_MB, workerToolchains } from '../tools/sandbox-toolchains';
import { workspacePath } from '../tools/workspace';
import { CLI_PROGRAMS, cliLaunch, findCliProgram } from './cli-specs';
import type { CliProgress } from './events';
import { hideAllBut, installRoot } from './hide';
import { buildExecutorPrompt, promptArgument } from './prompt';
import { runCli, type CliRun } from './run-cli';
import { changedFiles, prepareAttemptFolder, spaceReplaced, writeCtl, writeHomeFiles } from './space';
import { judgeAttempt } from './verdict';
import { prepareRepoAttemptFolder } from './repo-space';
import { defaultRepoParent } from '../repo/cache';
import { repoPromptView } from '../repo/repo-view';
import type { RepoPromptView } from '../roles/prompts';
import { llmCallObserver } from '../../telemetry/observe';

/**
 * The git configuration of a CLI's HOME on a repo ticket: its repository is owned by the worker's
 * user, not the sandbox's (git would refuse it), and a commit it makes needs an identity.
 */
const CLI_GITCONFIG = {
  path: '.gitconfig',
  content: '[safe]\n\tdirectory = *\n[user]\n\tname = Maestro CLI\n\temail = maestro-cli@localhost\n',
};

/** The files a repo ticket's prompt says the space holds: the named ones that exist, and its own. */
function repoSpaceFiles(view: RepoPromptView, own: readonly ArtifactRef[]): string[] {
  const named = [...view.changes, ...view.reads].filter((f) => f.exists).map((f) => f.path);
  return [...new Set([...named, ...own.map((r) => r.path)])];
}

/** Input of `runExecutor`. */
export interface RunExecutorInput {
  runId: string;
  ticket: Ticket;
  dependencies: TicketOutput[];
  /** The ticket's own files of its previous attempt: a revision continues in the same space. */
  previous?: ArtifactRef[];
  feedback?: string;
  attempt: number;
  /** Model calls the run's budget permits allow this activity over all its attempts (absent: no limit). */
  callPermits?: number;
  /** Repo runs: the ticket's tree is its space (see repo-space.ts). */
  repo?: RepoWork;
}

/** What the executor shows of its CLI while it runs (heartbeat details) and when it ended. */
export interface ExecutorProgress {
  agent: string;
  turns: number;
  toolCalls: number;
  lastTool?: string;
  /** Tokens the CLI reported; the bill is the gateway's records. */
  tokens: number;
}

/** Output of `runExecutor`: like performTicket's, plus the CLI's progress and transcript. */
export interface RunExecutorOutput {
  summary: string;
  artifacts: ArtifactRef[];
  usage: Usage;
  model: string;
  calls: LlmCallRecord[];
  executor: ExecutorProgress & { exitCode?: number; transcript?: ArtifactRef };
}

function progressView(agent: string, p: CliProgress): ExecutorProgress {
  return {
    agent,
    turns: p.turns,
    toolCalls: p.toolCalls,
    ...(p.lastTool !== undefined ? { lastTool: p.lastTool } : {}),
    tokens: p.inputTokens + p.outputTokens,
  };
}

function currentContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/**
 * The cancellation an attempt ends with, carrying its calls (CancelledFailure.details[0].calls):
 * the ticket workflow waits for it (WAIT_CANCELLATION_COMPLETED) and books them, so a cancelled
 * run's bill has the calls its CLIs made.
 */
function cancelledWithCalls(reason: unknown, calls: readonly LlmCallRecord[]): CancelledFailure {
  const message = reason instanceof Error ? reason.message : `cancelled (${String(reason)})`;
  return new CancelledFailure(message, [{ calls: [...calls] }]);
}

/** The space's files split into the ticket's own (its previous attempt's) and the others. */
function spaceFilesOf(before: ReadonlyMap<string, ArtifactRef>, previous: readonly ArtifactRef[] | undefined) {
  const own = new Set((previous ?? []).map((r) => workspacePath(r.path)));
  const all = [...before.keys()];
  return { own: all.filter((p) => own.has(p)), others: all.filter((p) => !own.has(p)) };
}

const badInput = (message: string) =>
  ApplicationFailure.create({ type: FailureType.BadInput, message, nonRetryable: true });

/** Creates `runExecutor` over the worker's dependencies. */
export function createExecutorActivities(deps: ActivityDeps) {
  return {
    async runExecutor(input: RunExecutorInput): Promise<RunExecutorOutput> {
      const role = workerRole(deps, input.ticket);
      const settings = role.executor;
      if (!settings)
        throw badInput(
          `role "${role.name}" has no "executor" in this worker's configuration; give it one in maestro.config.json or remove it from the run`,
        );
      const ex = deps.executor;
      if (!ex)
        throw badInput(
          `this worker has no LLM gateway for coding-agent CLIs, so role "${role.name}" (${settings.agent}) cannot run here`,
        );
      const bin = settings.agent === 'custom' ? role.executorCommand?.command : CLI_PROGRAMS[settings.agent].bin;
      const program = bin ? findCliProgram(bin, ex.maestroHome) : undefined;
      if (!program)
        throw badInput(
          settings.agent === 'custom'
            ? `the custom executor of role "${role.name}" (${bin ?? 'no command'}) is not installed on this worker`
            : `${settings.agent} is not installed on this worker (looked in ${ex.maestroHome ?? 'MAESTRO_HOME'}/agent-clis and PATH); install it: ${CLI_PROGRAMS[settings.agent].install}`,
        );
      const ctx = currentContext();
      const activityAttempt = ctx?.info.attempt ?? 1;
      const earlier = earlierCalls(ctx);
      const label = `${role.name} ${input.ticket.id} attempt ${input.attempt} (${settings.agent})`;
      const maxCalls = settings.maxCalls ?? DEFAULT_EXECUTOR_MAX_CALLS;
      const permits =
        input.callPermits !== undefined ? Math.min(maxCalls, input.callPermits - earlier.length) : maxCalls;
      if (permits <= 0)
        throw failureWithCalls(
          ApplicationFailure.create({
            type: FailureType.PermitsUsedUp,
            message: `${label}: used the LLM calls the run's budget allowed; asking the run for more`,
            nonRetryable: true,
          }),
          earlier,
        );
      const wallMs = settings.wallMs ?? DEFAULT_EXECUTOR_WALL_MS;
      const limits = {
        ...DEFAULT_SANDBOX_LIMITS,
        cpuSeconds: Math.min(3600, Math.ceil(wallMs / 1000) * 2),
        memoryMb: 4096,
        maxProcesses: 256,
        diskMb: 1024,
        maxFiles: 100_000,
        ...settings.limits,
        timeoutMs: wallMs,
      };
      const quota = { bytes: limits.diskMb * 1024 * 1024, entries: limits.maxFiles };
      const own = input.previous ?? [];
      // A repo ticket's space is its git tree (start snapshot plus own files); another's, its files.
      const space = input.repo
        ? await prepareRepoAttemptFolder(deps.store, input.repo, own, ex.workspaceParent, quota, input.ticket.id)
        : undefined;
      const folder =
        space?.folder ??
        (await prepareAttemptFolder(
          deps.store,
          { dependencies: input.dependencies.flatMap((d) => d.artifacts), own },
          ex.workspaceParent,
          quota,
        ));
      let calls: LlmCallRecord[] = [...earlier];
      try {
        const repoView = input.repo
          ? await repoPromptView(deps.store, input.repo, input.ticket, own, input.dependencies)
          : undefined;
        const prompt = buildExecutorPrompt({
          roleSystemPrompt: role.systemPrompt,
          ticket: input.ticket,
          dependencies: input.repo ? [] : await dependencyViews(deps.store, input.dependencies),
          ...(input.feedback !== undefined ? { feedback: input.feedback } : {}),
          attempt: input.attempt,
          spaceFiles: repoView ? repoSpaceFiles(repoView, own) : [...folder.before.keys()],
          ...(repoView ? { repo: repoView } : {}),
        });
        await writeCtl(folder, 'prompt.md', prompt);
        const model = settings.model ?? role.model ?? deps.workerModel(role.name);
        const gateway = await ex.startGateway({
          llm: ex.llm,
          model,
          permits,
          wallMs,
          meta: {
            kind: 'work',
            role: role.name,
            ticketId: input.ticket.id,
            attempt: activityAttempt,
            ...(ctx ? { taskQueue: ctx.info.taskQueue } : {}),
            workerIdentity: WORKER_IDENTITY,
            executor: settings.agent,
          },
          // Every upstream call the CLI makes gets its span and metrics as it is made.
          onCall: llmCallObserver(),
          // The gateway listens inside the attempt folder: the sandbox reaches it there, nothing else.
          socketPath: folder.host.socket,
          tcp: false,
        });
        const billed = () => [...earlier, ...gateway.ledger().calls];
        let run: CliRun;
        try {
          const launch = cliLaunch({
            agent: settings.agent,
            program,
            ...(role.executorCommand ? { customArgs: role.executorCommand.args } : {}),
            prompt: promptArgument(prompt, folder.inside.promptFile),
            promptFile: folder.inside.promptFile,
            home: folder.inside.home,
            model,
            token: gateway.token,
            callTimeoutSec: Math.max(10, Math.min(600, Math.floor(wallMs / 2000))),
            spaceFiles: spaceFilesOf(folder.before, input.previous),
          });
          await writeHomeFiles(folder, [...launch.homeFiles, ...(space ? [CLI_GITCONFIG] : [])]);
          const beat = (p: CliProgress) => {
            calls = billed();
            // Progress first: the Web UI shows heartbeat details as JSON, `maestro watch` reads them.
            ctx?.heartbeat({ executor: progressView(settings.agent, p), calls });
          };
          const hide = [
            ...hideAllBut(deps.sandboxHide ?? [], installRoot(program)),
            // Every other attempt's and ticket's folder: this CLI sees its own at /tmp/ws, no other.
            ...(path.dirname(folder.host.root) === '/' ? [] : [path.dirname(folder.host.root)]),
            // The snapshot cache's git dirs: the CLI's repository is its own copy.
            ...(space ? [defaultRepoParent()] : []),
          ];
          run = await runCli({
            folder,
            launch,
            gateway,
            limits,
            hide,
            // A repo ticket's CLI runs the repository's tests as run_command does: same toolchains.
            ...(space ? { toolchains: workerToolchains(hide), tmpMb: TOOLCHAIN_TMP_MB } : {}),
            ...(ctx ? { signal: ctx.cancellationSignal } : {}),
            onProgress: beat,
            shouldStop: () => gateway.ledger().stopped?.reason,
          });
        } finally {
          calls = billed();
          await gateway.close();
        }
        const requestLog = gateway.requestLogText?.();
        if (requestLog !== undefined)
          await deps.store.put({
            path: `executor/${input.ticket.id}-attempt-${input.attempt}-${activityAttempt}-requests.jsonl`,
            content: requestLog,
          });
        const transcript = await deps.store.put({
          path: `executor/${input.ticket.id}-attempt-${input.attempt}-${activityAttempt}.jsonl`,
          content: run.transcript,
        });
        const replaced = await spaceReplaced(folder);
        if (replaced)
          throw failureWithCalls(
            ApplicationFailure.create({ type: FailureType.ExecutorFailed, message: `${label}: ${replaced}` }),
            calls,
          );
        const { written, skipped } = space ? await space.changes() : await changedFiles(deps.store, folder);
        const verdict = judgeAttempt(run, written.length, label);
        const view = progressView(settings.agent, run.progress);
        // The next attempt (a retry of this activity) keeps these calls on the bill.
        ctx?.heartbeat({ executor: view, calls });
        if (!verdict.ok) {
          if (verdict.kind === 'cancelled' && ctx?.cancellationSignal.aborted)
            throw cancelledWithCalls(ctx.cancellationSignal.reason, calls);
          throw failureWithCalls(
            ApplicationFailure.create({
              type: verdict.kind === 'permits' ? FailureType.PermitsUsedUp : FailureType.ExecutorFailed,
              message: verdict.reason,
              nonRetryable: verdict.kind === 'permits',
            }),
            calls,
          );
        }
        const notKept = skipped.length > 0 ? `\n(not kept: ${skipped.slice(0, 5).join('; ')})` : '';
        // The ticket's output is its whole own set: the previous attempt's files, changed ones replaced.
        const result = new Map(own.map((r) => [r.path, r]));
        for (const w of written) result.set(w.path, w);
        return {
          summary: `${verdict.summary}${notKept}`,
          artifacts: [...result.values()],
          usage: calls.reduce((u, c) => addUsage(u, usageOfRecord(c)), emptyUsage()),
          model,
          calls,
          executor: {
            ...view,
            ...(run.exit?.code !== undefined && run.exit.code !== null ? { exitCode: run.exit.code } : {}),
            transcript,
          },
        };
      } catch (err) {
        throw failureWithCalls(ctx?.cancellationSignal.aborted ? cancelledWithCalls(err, calls) : err, calls);
      } finally {
        await (space ? space.dispose() : folder.ws.dispose());
      }
    },
  };
}
