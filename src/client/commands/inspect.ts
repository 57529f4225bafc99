/** `maestro status`, `maestro result` and `maestro list`: read runs without changing them. */
import type { Command } from 'commander';
import { describeFailure } from '../api';
import { resultText, statusText } from '../format';
import { LIST_PHASES, parsePhaseOption, parseSinceOption, type ListPhase } from '../list-filters';
import { parseIntOption } from '../options';
import { fetchMissingArtifacts } from '../fetch-artifacts';
import { assembleRunOutput } from '../output';
import { withSession } from '../session';

/** Registers the read-only commands. */
export function registerInspectCommands(program: Command): void {
  program
    .command('status')
    .description("show a run's phase, tickets and cost")
    .argument('<runId>', 'the run id printed by `maestro run`/`maestro start`')
    .option(
      '--json',
      'print JSON (stable fields: runId, phase, tickets[id, role, title, state], pendingGates, cost{usd, tokens})',
    )
    .action(async (runId: string, flags: { json?: boolean }) => {
      await withSession({ worker: 'never' }, async ({ api }) => {
        const status = await api.status(runId);
        console.log(flags.json ? JSON.stringify(status, null, 2) : statusText(status));
      });
    });

  program
    .command('result')
    .description("print a finished run's report and assemble its files")
    .argument('<runId>', 'the run id')
    .option('--out <dir>', 'folder to write the produced files to (default: <MAESTRO_HOME>/output/<runId>)')
    .option('--json', 'print the whole result as JSON')
    .action(async (runId: string, flags: { out?: string; json?: boolean }) => {
      process.exitCode = await withSession({ worker: 'never' }, async ({ api, config, log }) => {
        const desc = await api.client.workflow.getHandle(runId).describe();
        if (desc.status.name === 'RUNNING') {
          console.error(`Run ${runId} is still running; follow it with \`maestro status ${runId}\`.`);
          return 1;
        }
        let result;
        try {
          result = await api.result(runId);
        } catch (err) {
          console.error(`Run ${runId} failed: ${describeFailure(err)}`);
          return 1;
        }
        await fetchMissingArtifacts({ client: api.client, home: config.home, runId, artifacts: result.manifest, log });
        const { outDir, files } = await assembleRunOutput(config, result, flags.out);
        if (flags.json) console.log(JSON.stringify({ ...result, outputDir: outDir }, null, 2));
        else console.log(`${resultText(result)}\nFiles (${files.length}) in: ${outDir}`);
        return 0;
      });
    });

  program
    .command('list')
    .description('list recent runs, newest first, optionally by phase and start time')
    .option('--limit <n>', 'how many (1-1000, default 20)', parseIntOption('--limit', 1, 1000), 20)
    .option(`--phase <phase>`, `only runs in this phase: ${LIST_PHASES.join(', ')}`, parsePhaseOption)
    .option('--since <when>', 'only runs started after this: a duration back (30m, 2h, 3d, 1w) or an ISO date', (v) =>
      parseSinceOption(v),
    )
    .option('--json', 'print JSON: an array of { runId, status, phase?, goal, startTime, closeTime?, costUsd? }')
    .action(async (flags: { limit: number; phase?: ListPhase; since?: Date; json?: boolean }) => {
      await withSession({ worker: 'never' }, async ({ api, log }) => {
        const { runs, note } = await api.listRuns({ limit: flags.limit, phase: flags.phase, since: flags.since });
        if (note) log(`Note: ${note}`);
        if (flags.json) {
          console.log(JSON.stringify(runs, null, 2));
          return;
        }
        if (runs.length === 0) {
          const filtered = flags.phase !== undefined || flags.since !== undefined;
          console.log(
            filtered ? 'No runs match these filters.' : 'No runs yet. Start one with `maestro run "<goal>"`.',
          );
        }
        for (const r of runs)
          console.log(
            `${r.runId}  ${(r.phase ?? r.status.toLowerCase()).padEnd(17)}  ${r.startTime.toISOString()}  ${r.goal.slice(0, 80)}`,
          );
      });
    });
}
