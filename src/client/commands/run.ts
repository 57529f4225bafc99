/** `maestro run` (start, follow, assemble the output) and `maestro start` (start and return). */
import path from 'node:path';
import type { Command } from 'commander';
import { describeFailure, validateGoal } from '../api';
import { answerGate } from '../gate-prompt';
import { addRunFlags, startOptions, type RunFlags } from '../run-flags';
import { followRun } from '../follow';
import { resultText, runUrl } from '../format';
import { startedRunNotice } from '../../dev/worker-choice';
import { fetchMissingArtifacts } from '../fetch-artifacts';
import { assembleRunOutput } from '../output';
import { workflowPollers } from '../pollers';
import { withSession } from '../session';

/** Registers `run` and `start`. */
export function registerRunCommands(program: Command): void {
  addRunFlags(
    program
      .command('run')
      .description('run a goal to the end: plan, execute tickets, review, assemble the produced files')
      .argument('<goal>', 'what the agents should produce, in words')
      .option('--out <dir>', 'folder to assemble the produced files in (default: <MAESTRO_HOME>/output/<runId>)')
      .option(
        '--yes',
        'approve plan, ticket and final gates automatically (for scripts); budget gates then stop the run',
      ),
  ).action(async (goalArg: string, flags: RunFlags) => {
    const goal = validateGoal(goalArg);
    const code = await withSession({ worker: 'auto' }, async ({ config, runtime, api, log }) => {
      const runId = await api.start(goal, startOptions(flags));
      log(`Run ${runId} started on ${runtime.address} (task queue ${config.temporal.taskQueue}).`);
      if (runtime.uiUrl) log(`Web UI: ${runUrl(runtime.uiUrl, config.temporal.namespace, runId)}`);
      const mode = flags.yes ? 'yes' : process.stdin.isTTY ? 'ask' : 'print';
      await followRun(api, runId, log, 250, (gate) => answerGate(api, runId, gate, mode, log));
      let result;
      try {
        result = await api.result(runId);
      } catch (err) {
        log(`Run ${runId} failed: ${describeFailure(err)}`);
        log(`Inspect it with \`maestro status ${runId}\`${runtime.uiUrl ? ' or in the Web UI' : ''}.`);
        return 1;
      }
      await fetchMissingArtifacts({ client: api.client, home: config.home, runId, artifacts: result.manifest, log });
      const { outDir, files } = await assembleRunOutput(config, result, flags.out);
      console.log(`\nRun ${runId} finished.`);
      console.log(resultText(result));
      if (config.llm.simulated && !runtime.otherWorkerSettings)
        console.log('(Simulated LLM: costs use simulated prices; no provider was called.)');
      console.log(`Files (${files.length}) assembled in: ${outDir}`);
      for (const f of files) console.log(`  ${path.relative(outDir, f)}`);
      if (runtime.uiUrl) {
        const link = runUrl(runtime.uiUrl, config.temporal.namespace, runId);
        console.log(runtime.devServer ? `Web UI (while \`maestro dev\` runs): ${link}` : `Web UI: ${link}`);
      }
      return result.status === 'completed' ? 0 : 3;
    });
    process.exitCode = code;
  });

  addRunFlags(
    program
      .command('start')
      .description('start a run and print its id; a worker (`maestro dev` or `maestro worker`) executes it')
      .argument('<goal>', 'what the agents should produce, in words'),
  ).action(async (goalArg: string, flags: RunFlags) => {
    const goal = validateGoal(goalArg);
    await withSession({ worker: 'never' }, async ({ api, runtime, config, log }) => {
      const runId = await api.start(goal, startOptions(flags));
      console.log(runId);
      if (runtime.devServer) {
        log(
          'Note: no Temporal server was running, so a temporary one was started and is now stopped again; the run waits there until you start `maestro dev`.',
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
