/**
 * Whether a CLI attempt did work, decided from evidence and never from the exit code alone: a CLI
 * that exits 0 with an `[API Error:` result, reports an error in its result event, was stopped, or
 * changed nothing in its space failed, and the reason says which.
 */
import type { CliRun } from './run-cli';

/** How an attempt ended: done (with its summary), or failed with a reason. */
export type AttemptVerdict =
  { ok: true; summary: string } | { ok: false; reason: string; kind: 'permits' | 'failed' | 'cancelled' };

/** The verdict on one CLI run that changed `changed` files. */
export function judgeAttempt(run: CliRun, changed: number, label: string): AttemptVerdict {
  const { sandbox, progress, exit } = run;
  if (run.stoppedBy === 'wall-clock')
    return { ok: false, kind: 'failed', reason: `${label}: the attempt's wall time ran out; the CLI was stopped` };
  if (run.stoppedBy === 'permits')
    return {
      ok: false,
      kind: 'permits',
      reason: `${label}: used the LLM calls the run's budget allowed; the CLI was stopped`,
    };
  if (sandbox.stopped === 'cancelled') return { ok: false, kind: 'cancelled', reason: `${label}: cancelled` };
  const tail = run.stderrTail.trim().split('\n').slice(-3).join(' | ');
  if (sandbox.stopped !== undefined)
    return {
      ok: false,
      kind: 'failed',
      reason: `${label}: stopped by the sandbox (${sandbox.stopped})${progress.error ? `; last error: ${progress.error}` : ''}`,
    };
  if (!exit)
    return {
      ok: false,
      kind: 'failed',
      reason: `${label}: the CLI did not run (sandbox exit ${sandbox.exitCode ?? '?'}): ${tail || sandbox.output.slice(-500) || 'no output'}`,
    };
  if (progress.error)
    return { ok: false, kind: 'failed', reason: `${label}: the CLI reported an error: ${progress.error}` };
  if (exit.code !== 0)
    return {
      ok: false,
      kind: 'failed',
      reason: `${label}: the CLI exited with ${exit.code ?? exit.signal ?? '?'}${progress.warning ? `; it reported: ${progress.warning}` : ''}${tail ? `; stderr: ${tail}` : ''}`,
    };
  if (changed === 0)
    return {
      ok: false,
      kind: 'failed',
      reason: `${label}: the CLI exited 0 but created or changed no file in the ticket's space${progress.result ? ` (it said: ${progress.result.slice(0, 300)})` : ''}`,
    };
  const summary = progress.result?.trim() || `The CLI changed ${changed} file(s) without a final message.`;
  return { ok: true, summary };
}
