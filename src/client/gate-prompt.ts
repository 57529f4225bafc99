/**
 * Answers gates from the terminal while `maestro run` follows a run: asks the person at a TTY,
 * approves automatically with `--yes` (except budget gates, which stop the run instead of
 * spending more), and otherwise prints the commands to decide from elsewhere.
 */
import os from 'node:os';
import { createInterface } from 'node:readline/promises';
import type { Decision } from '../shared/messages';
import { printableDeep } from '../shared/control-chars';
import { terminalLine } from '../shared/model-text';
import type { GateView, RunStatus } from '../shared/types';
import { YES_DECIDER_SUFFIX } from '../shared/constants';
import type { MaestroClient } from './api';
import { usd } from './format';
import { approveHints } from './watch/approve-hints';

/** How `maestro run` handles gates (`yes-accept-failing`: `--yes --accept-failing`). */
export type GateMode = 'ask' | 'yes' | 'yes-accept-failing' | 'print';

/** The local user's name, for the audit log. */
export function localUser(): string {
  try {
    return os.userInfo().username || 'cli-user';
  } catch {
    return 'cli-user';
  }
}

const CHOICES: Record<GateView['kind'], { key: string; decision: Decision; label: string }[]> = {
  plan: [
    { key: 'a', decision: 'approve', label: '[a]pprove' },
    { key: 'r', decision: 'reject', label: '[r]eject with a comment (the Boss re-plans)' },
  ],
  final: [
    { key: 'a', decision: 'approve', label: '[a]pprove' },
    { key: 'r', decision: 'reject', label: '[r]eject with a comment (the Boss revises once)' },
  ],
  budget: [
    { key: 'a', decision: 'approve', label: '[a]pprove (extend by the original budget)' },
    { key: 'r', decision: 'reject', label: '[r]eject (stop, keep what is done)' },
  ],
  ticket: [
    { key: 'a', decision: 'approve', label: '[a]pprove anyway' },
    { key: 't', decision: 'retry', label: 're[t]ry with your feedback' },
    { key: 's', decision: 'skip', label: '[s]kip (dependents are blocked)' },
    { key: 'x', decision: 'abort', label: 'abort the run [x]' },
  ],
};

/**
 * What `--yes` decides: approve plan and final gates and tool calls; reject budget gates (never
 * spend more unasked); skip a ticket's own gate, since its ticket was not accepted on its merits
 * (failing checks, nothing delivered, attempts or budget used up). Only `acceptFailing`
 * (`--accept-failing`) approves such a ticket, which the run then shows as accepted over failing
 * checks. A ticket without a result to accept is skipped either way.
 */
export function yesDecision(gate: Pick<GateView, 'kind' | 'decisions' | 'tool'>, acceptFailing = false): Decision {
  if (gate.kind === 'budget') return 'reject';
  if (gate.decisions && !gate.decisions.includes('approve')) return 'skip';
  if (gate.kind === 'ticket' && gate.tool === undefined && !acceptFailing) return 'skip';
  return 'approve';
}

/** What `--yes` prints it did, per gate kind and decision. */
function yesSays(gate: Pick<GateView, 'kind' | 'decisions' | 'tool'>, decision: Decision): string {
  if (decision === 'reject') return 'rejected (budget gates are never approved automatically) by --yes';
  const ownGate = gate.kind === 'ticket' && gate.tool === undefined;
  if (decision === 'skip')
    return gate.decisions && !gate.decisions.includes('approve')
      ? 'skipped (there is no result to approve) by --yes'
      : 'skipped (the ticket was not accepted on its merits; --accept-failing accepts it) by --yes';
  return ownGate ? 'accepted over failing checks by --yes --accept-failing' : `${decision}d by --yes`;
}

/**
 * What a person needs to decide a gate: for a plan, its tickets (id, role, title, dependencies);
 * for a budget, what was spent against which cap.
 */
export function gateDetails(gate: GateView, status: RunStatus): string[] {
  if (gate.kind === 'plan') {
    const idW = Math.max(2, ...status.tickets.map((t) => t.id.length));
    const roleW = Math.max(4, ...status.tickets.map((t) => t.role.length));
    return [
      `  Plan (${status.tickets.length} tickets)${status.planSummary ? `: ${status.planSummary}` : ''}`,
      ...status.tickets.map(
        (t) =>
          `    ${t.id.padEnd(idW)}  ${t.role.padEnd(roleW)}  ${t.title}${t.dependsOn.length ? `  (after ${t.dependsOn.join(', ')})` : ''}`,
      ),
    ];
  }
  if (gate.kind === 'budget') {
    const caps = [
      status.budget?.usd !== undefined ? `${usd(status.cost.usd)} of the ${usd(status.budget.usd)} budget` : '',
      status.budget?.tokens !== undefined
        ? `${status.cost.tokens.toLocaleString('en-US')} of ${status.budget.tokens.toLocaleString('en-US')} tokens`
        : '',
    ].filter(Boolean);
    return [
      `  Spent so far: ${caps.length ? caps.join(', ') : `${usd(status.cost.usd)} (${status.cost.tokens} tokens)`}`,
    ];
  }
  return [];
}

/** Handles one newly opened gate according to `mode`. */
export async function answerGate(
  api: MaestroClient,
  runId: string,
  gate: GateView,
  mode: GateMode,
  log: (line: string) => void,
): Promise<void> {
  log(`Gate ${gate.id} is waiting: ${terminalLine(gate.reason)}`);
  const status = await api.status(runId).then(printableDeep, () => undefined);
  if (status) for (const line of gateDetails(gate, status)) log(line);
  if (mode === 'yes' || mode === 'yes-accept-failing') {
    const decision = yesDecision(gate, mode === 'yes-accept-failing');
    // The gate's id: if it was decided elsewhere meanwhile, the run refuses instead of deciding the next one.
    await api.decide(runId, { gate: gate.id, decision, by: `${localUser()}${YES_DECIDER_SUFFIX}` });
    log(`  ${yesSays(gate, decision)}`);
    return;
  }
  if (mode === 'print') {
    const hints = approveHints(runId, gate, api.client.options.namespace);
    log('  Decide from another terminal:');
    log(`    ${hints.maestro}    (or: maestro reject ... --comment "why")`);
    log(`    ${hints.temporal}`);
    return;
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  // Someone may decide elsewhere (another terminal, the Web UI): stop asking when they do.
  const asked = new AbortController();
  let checking = false;
  const watcher = setInterval(() => {
    if (checking) return;
    checking = true;
    void api
      .status(runId)
      .then((s) => {
        if (!s.pendingGates.some((g) => g.id === gate.id)) asked.abort();
      })
      .catch(() => undefined)
      .finally(() => (checking = false));
  }, 1000);
  // readline swallows Ctrl-C at a prompt: hand it on so the session stops cleanly (exit 130).
  rl.on('SIGINT', () => process.kill(process.pid, 'SIGINT'));
  const question = (q: string) => rl.question(q, { signal: asked.signal });
  try {
    const choices = CHOICES[gate.kind].filter((c) => !gate.decisions || gate.decisions.includes(c.decision));
    for (;;) {
      const answer = (await question(`  ${choices.map((c) => c.label).join(', ')}? `)).trim().toLowerCase();
      const choice = choices.find((c) => c.key === answer[0]);
      if (!choice) {
        log(`  Please answer with one of: ${choices.map((c) => c.key).join(', ')}.`);
        continue;
      }
      const needsComment = choice.decision === 'reject' || choice.decision === 'retry';
      const comment = needsComment ? (await question('  Comment for the Boss/worker: ')).trim() : undefined;
      try {
        await api.decide(runId, {
          gate: gate.id,
          decision: choice.decision,
          by: localUser(),
          ...(comment ? { comment } : {}),
        });
        return;
      } catch (err) {
        log(`  ${(err as Error).message}`); // e.g. someone else decided meanwhile
        return;
      }
    }
  } catch (err) {
    if (!asked.signal.aborted) throw err;
    log(`\n  ${gate.id} was decided elsewhere; following the run again.`);
  } finally {
    clearInterval(watcher);
    rl.close();
  }
}
