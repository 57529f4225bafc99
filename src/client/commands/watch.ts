/**
 * `maestro watch <runId>`: follows a run until it ends. On a terminal it redraws one live screen
 * (progress, tickets, gates waiting for a person with the command that approves them); piped, it
 * prints one line per change; with `--json`, one JSON event per line for scripts.
 */
import type { Command } from 'commander';
import logUpdate from 'log-update';
import { ticketWorkflowId } from '../../shared/constants';
import { printableDeep } from '../../shared/control-chars';
import { acceptedText, runStatusOf } from '../../shared/outcomes';
import { terminalJson } from '../../shared/model-text';
import { changes } from '../follow';
import { runUrl, usd } from '../format';
import { parseIntOption, parseRunIdOption, parseTicketIdOption } from '../options';
import { withSession } from '../session';
import { unpolledRoleQueueWarnings } from '../role-queues';
import { runRoles } from '../../config';
import { watchEvents } from '../watch/events';
import { newToolCallLines, watchedToolCalls } from '../watch/tool-block';
import { watchSnapshots } from '../watch/poll';
import { executorLines } from '../watch/executor-progress';
import { llmLines, ProgressNews, RetryNews } from '../watch/llm-progress';
import { renderWatch, type WatchSnapshot } from '../watch/render';
import { terminalWidth } from '../watch/wrap-command';

interface WatchFlags {
  json?: boolean;
  interval: number;
  color?: boolean;
  epic?: string;
}

/** Exit code of a watched run, as `maestro run` uses them: 0 all accepted, 3 partial, 1 failed. */
export function watchExitCode(last: WatchSnapshot | undefined): number {
  if (!last || last.execution !== 'COMPLETED') return 1;
  const s = last.status;
  // Same codes as `maestro run`: only a completely completed result is 0.
  const outcome =
    s.outcome ?? (s.phase === 'completed' && runStatusOf(s.tickets) === 'completed' ? 'completed' : 'partial');
  return outcome === 'completed' ? 0 : 3;
}

/** Registers `maestro watch`. */
export function registerWatchCommand(program: Command): void {
  program
    .command('watch')
    .description('follow a run live until it ends: progress, tickets, cost, and gates waiting for you')
    .argument('<runId>', 'the run id printed by `maestro start` / `maestro run`', parseRunIdOption)
    .option('--json', 'print one JSON event per line: {type: phase|ticket|gate|cost|end, at, runId, ...}')
    .option('--interval <ms>', 'poll interval (100-60000, default 500)', parseIntOption('--interval', 100, 60_000), 500)
    .option('--no-color', 'no colours on the live screen')
    .option(
      '--epic <id>',
      'watch the sub-run of this epic ticket (e.g. T3) with all its tickets',
      parseTicketIdOption('--epic'),
    )
    .action(async (topRunId: string, flags: WatchFlags) => {
      // An epic's sub-run is a run of its own, with the id `<runId>/<epic>`.
      const runId = flags.epic ? ticketWorkflowId(topRunId, flags.epic) : topRunId;
      process.exitCode = await withSession(
        { worker: 'never', server: 'start', command: 'watch' },
        async ({ api, config, runtime, log }) => {
          const namespace = config.temporal.namespace;
          const uiUrl = runtime.uiUrl ? runUrl(runtime.uiUrl, namespace, runId) : undefined;
          for (const w of await unpolledRoleQueueWarnings({ client: api.client, namespace, roles: runRoles(config) }))
            log(w);
          const snapshots = printableSnapshots(watchSnapshots(api, runId, { intervalMs: flags.interval }));
          let last: WatchSnapshot | undefined;

          if (flags.json) {
            const seenToolCalls = new Set<string>();
            for await (const snap of snapshots) {
              for (const e of watchEvents(last, snap, new Date(), namespace, seenToolCalls))
                process.stdout.write(`${terminalJson(e)}\n`);
              last = snap;
            }
          } else if (process.stdout.isTTY) {
            const screen = logUpdate.create(process.stdout, { showCursor: false });
            try {
              for await (const snap of snapshots) {
                const lines = renderWatch(snap, {
                  now: new Date(),
                  width: terminalWidth(),
                  height: process.stdout.rows,
                  color: flags.color !== false,
                  namespace,
                  uiUrl,
                });
                screen(lines.join('\n'));
                last = snap;
              }
            } finally {
              screen.done();
            }
          } else {
            if (uiUrl) log(`Web UI: ${uiUrl}`);
            const printedCalls = new Set<string>();
            const printedClis = new Map<string, string>();
            const retryNews = new RetryNews();
            const progressNews = new ProgressNews();
            for await (const snap of snapshots) {
              if (!last) console.log(`Run ${runId}: ${snap.status.goal}`);
              if (snap.note && !last?.note) console.log(snap.note);
              for (const line of changes(last?.status, snap.status, { gates: true, namespace, width: terminalWidth() }))
                console.log(line);
              const calls = watchedToolCalls(snap.status.toolCalls, snap.liveToolCalls);
              for (const line of newToolCallLines(printedCalls, calls)) console.log(line);
              for (const line of newExecutorLines(printedClis, snap)) console.log(`  ${line}`);
              if (snap.execution === 'RUNNING') {
                for (const line of progressNews.fresh(llmLines(snap.status.tickets, snap.llm)))
                  console.log(`  ${line}`);
                for (const line of retryNews.fresh(snap.retries)) console.log(`  ${line}`);
              }
              if (snap.execution !== 'RUNNING') console.log(endLine(snap));
              last = snap;
            }
          }
          return watchExitCode(last);
        },
      );
    });
}

/** Snapshots whose texts (goal, summaries, errors, comments) can no longer drive the terminal. */
async function* printableSnapshots(source: AsyncIterable<WatchSnapshot>): AsyncGenerator<WatchSnapshot> {
  for await (const snap of source)
    yield {
      ...snap,
      status: printableDeep(snap.status),
      progress: printableDeep(snap.progress),
      ...(snap.liveToolCalls ? { liveToolCalls: printableDeep(snap.liveToolCalls) } : {}),
      ...(snap.executors ? { executors: printableDeep(snap.executors) } : {}),
      ...(snap.retries ? { retries: printableDeep(snap.retries) } : {}),
    };
}

/** For the piped watch: each CLI's progress line when it differs from the one printed last for its ticket. */
function newExecutorLines(printed: Map<string, string>, snap: WatchSnapshot): string[] {
  if (snap.execution !== 'RUNNING') return [];
  return executorLines(snap.status.tickets, snap.executors).filter((line) => {
    const id = line.slice(0, line.indexOf(' '));
    if (printed.get(id) === line) return false;
    printed.set(id, line);
    return true;
  });
}

function endLine(snap: WatchSnapshot): string {
  const s = snap.status;
  const base = `Run ${s.runId} ended: ${s.outcome ?? s.phase} (${snap.execution.toLowerCase()}) — ${acceptedText(s.tickets)}, ${usd(s.cost.usd)}`;
  return s.error ? `${base}; ${s.error}` : base;
}
