/**
 * Execution of the plan: tickets start as child workflows as soon as their dependencies are
 * accepted (at most `maxParallel` at once). A ticket that is not accepted (out of revisions, out
 * of budget, or failed) opens a ticket gate; the person approves it anyway, sends it back with
 * feedback, skips it (its dependents are blocked) or aborts the run. Reaching the run budget
 * opens a budget gate before anything else is started.
 */
import { ApplicationFailure, CancellationScope, condition, executeChild, isCancellation } from '@temporalio/workflow';
import { DEFAULT_LIMITS, ticketWorkflowId } from '../shared/constants';
import { FailureType } from '../shared/errors';
import { DagTracker } from '../shared/dag-tracker';
import { markdownInline, summaryText } from '../shared/model-text';
import type { Plan, Ticket } from '../shared/schemas';
import type { MergeTicketOutput } from '../shared/repo';
import { pathsOverlap } from '../shared/repo-paths';
import type { GateView, TicketOutcome } from '../shared/types';
import { emptyUsage } from '../shared/usage';
import { failedCalls, isConfigError, rootCause, wholeTicketCalls } from './failures';
import type { GateWait, SchedulerCarry } from './continue-as-new';
import { awaitGate, NO_RESULT_DECISIONS, ticketDecision, type GateOutcome, type GatePolicy } from './gates';
import { keepsGatePromises } from './patches';
import { gatePolicy } from './policies';
import { reopenDependencies } from './reopen';
import { isEpic } from '../shared/epics';
import { drawsOnRunBudget, keepStoppedEpic, runEpic, stopEpic } from './epics';
import type { RunState } from './run-state';
import { ticketWorkflow } from './ticket';

/** Ready tickets a repo run looks at beyond its free slots (some may wait for a running one's files). */
const REPO_LOOKAHEAD = 20;

/** Whether a ticket names files that a running ticket (working or waiting to merge) also changes. */
function overlapsRunning(state: RunState, byId: ReadonlyMap<string, Ticket>, ticket: Ticket): boolean {
  if (!ticket.changes?.length) return false;
  for (const id of state.runningIds())
    if (id !== ticket.id && pathsOverlap(ticket.changes, byId.get(id)?.changes)) return true;
  return false;
}

/** How long a cancelled run waits for its children to finish cancelling before it ends anyway. */
const CHILD_CANCEL_WAIT = '30 seconds';

/** What the scheduler needs from the orchestrator. */
export interface SchedulerContext {
  state: RunState;
  plan: Plan;
  maxParallel: number;
  maxRevisions: number;
  /** Re-opens of one ticket after failing checks of a ticket testing it (default DEFAULT_LIMITS.maxReopens). */
  maxReopens?: number;
  /** Resolves false when a person stopped spending at the budget gate. */
  budgetGate: () => Promise<boolean>;
  /** Whether the run has a budget (children then ask for permits). */
  budgeted: boolean;
  /** Whether some child waits for a permit to make an LLM call. */
  waitingForPermit: () => boolean;
  forget: (ticketId: string) => void;
  /** A child ended and its spending is booked: grant what waits for its permits. */
  released: () => void;
  publish: () => void;
  /** The child's first permit batch, when the run grants it at the start (`firstGrant` field). */
  firstGrant: (ticket: Ticket) => { firstGrant?: { calls: number } };
  /** Whether the run's history passed its bound (then it drains and continues as new). */
  historyFull: () => boolean;
  /** The scheduler's state carried from the run's previous execution. */
  resume?: SchedulerCarry;
}

/**
 * How execution ended: normally, stopped at the budget gate, or at a quiet point to continue as
 * new (what the scheduler carries).
 */
export type ExecutionEnd = 'done' | 'stopped' | SchedulerCarry;

/** Runs the plan's tickets until none can run any more. */
export async function executeTickets(ctx: SchedulerContext): Promise<ExecutionEnd> {
  const { state, plan } = ctx;
  const byId = new Map(plan.tickets.map((t) => [t.id, t]));
  const scopes = new Map<string, CancellationScope>();
  let children = 0; // running child workflows (bounded by maxParallel)
  let busy = 0; // children plus tickets waiting at a gate
  // Feedback of tickets a person sent back; the loop relaunches them within maxParallel.
  const retryFeedback = new Map<string, string>();
  let stopped = false;
  let abort: GateOutcome | undefined;
  let fatal: ApplicationFailure | undefined;
  // Ready and blocked tickets, kept up to date per state change (no whole-plan rescans).
  const dag = new DagTracker(plan.tickets, state.states());
  state.onMark = (id, s) => dag.set(id, s);
  // Tickets waiting at a gate, carried when the run continues as new.
  const gateWaits = new Map<string, GateWait>();
  // Once the history passes its bound, nothing new starts and the run continues at a quiet point.
  let draining = false;

  const runChild = async (ticket: Ticket, initialFeedback?: string): Promise<void> => {
    state.mark(ticket.id, 'running');
    const scope = new CancellationScope();
    scopes.set(ticket.id, scope);
    children++;
    let outcome: TicketOutcome | undefined;
    let failure: string | undefined;
    try {
      outcome = await scope.run(() =>
        isEpic(ticket)
          ? runEpic(state, ticket, initialFeedback)
          : executeChild(ticketWorkflow, {
              workflowId: ticketWorkflowId(state.runId, ticket.id),
              staticSummary: `[${ticket.role}] ${ticket.id} ${summaryText(ticket.title)}`,
              staticDetails: ticketDetails(ticket),
              args: [
                {
                  runId: state.runId,
                  ticket,
                  role: state.input.roles.find((r) => r.name === ticket.role),
                  dependencies: state.dependencyOutputs(ticket.dependsOn),
                  maxRevisions: ctx.maxRevisions,
                  ...(state.input.bossModel ? { bossModel: state.input.bossModel } : {}),
                  ...(initialFeedback ? { initialFeedback } : {}),
                  ...state.testFailureOf(ticket.id),
                  ...(state.input.ticketBudget ? { budget: state.input.ticketBudget } : {}),
                  ...(ctx.budgeted ? { budgetPermits: true } : {}),
                  ...ctx.firstGrant(ticket),
                  ...(state.input.llmTimeoutMs ? { llmTimeoutMs: state.input.llmTimeoutMs } : {}),
                  ...(state.input.queueWaitMs ? { queueWaitMs: state.input.queueWaitMs } : {}),
                  // Repo runs: the branch as it is now is the tree the ticket works on.
                  ...(state.branch ? { repo: state.branch.startTicket(ticket.id) } : {}),
                },
              ],
            }),
      );
    } catch (err) {
      if (isCancellation(err)) {
        state.mark(
          ticket.id,
          'skipped',
          CancellationScope.current().consideredCancelled ? 'the run was cancelled' : 'stopped before it finished',
        );
        return;
      }
      const cause = rootCause(err);
      const whole = wholeTicketCalls(cause);
      if (whole) state.ledger.chargeFailedTicket(state.ticketView(ticket.id), whole);
      else state.ledger.chargeFailedCalls(failedCalls(cause)); // an epic, or a child recorded before it listed all
      // A configuration error (bad key, unknown model) fails every ticket alike: stop the run.
      if (isConfigError(cause)) {
        fatal ??= cause;
        state.mark(ticket.id, 'failed', cause.message);
        return;
      }
      failure = cause.message;
    } finally {
      children--;
      scopes.delete(ticket.id);
      ctx.forget(ticket.id);
    }
    if (outcome) state.settleSpending(outcome);
    // Its spending booked and its permits free: children waiting for permits may go on.
    ctx.released();
    if (stopped && drawsOnRunBudget(state, ticket)) return keepStoppedEpic(state, ticket, outcome);
    if (outcome) {
      // An epic whose sub-run did not accept everything is accepted over its shortfall.
      if (outcome.status === 'accepted')
        return state.branch ? integrate(ticket, outcome, outcome.shortfall) : state.accept(outcome, outcome.shortfall);
      if (outcome.reopen && outcome.reopen.length > 0) {
        const refused = reopenDependencies({
          state,
          ticket,
          requests: outcome.reopen,
          maxReopens: ctx.maxReopens ?? DEFAULT_LIMITS.maxReopens,
          feedback: retryFeedback,
        });
        if (refused === undefined) return;
        outcome = { ...outcome, escalationReason: `its check failed (${outcome.escalationReason ?? ''}); ${refused}` };
      }
    }
    await escalate(ticket, outcome, failure);
  };

  /**
   * Repo runs: an accepted ticket goes through the merge queue and is accepted (its dependents may
   * start) only once its commit is on the branch. A conflict re-opens it on the new branch with
   * the hunks, within the re-open bound; past it the ticket goes to its gate. `overruled`: a
   * person approved it anyway (or an epic's shortfall), kept on the accepted ticket.
   */
  const integrate = async (ticket: Ticket, outcome: TicketOutcome, overruled?: string): Promise<void> => {
    const branch = state.branch!;
    const approved = overruled !== undefined && outcome.status !== 'accepted';
    let merged: MergeTicketOutput;
    try {
      merged = await branch.merge(ticket, outcome.summary, outcome.artifacts);
    } catch (err) {
      if (isCancellation(err)) return state.mark(ticket.id, 'skipped', 'the run was cancelled before it was merged');
      const why = `its merge onto ${branch.input.branch} failed: ${rootCause(err).message}`;
      if (approved) return state.mark(ticket.id, 'failed', `${overruled}, but ${why}`);
      return escalate(ticket, undefined, why);
    }
    if (merged.status === 'merged') return state.accept(outcome, overruled, merged.commit);
    if (merged.status === 'empty') return state.accept(outcome, overruled);
    const max = ctx.maxReopens ?? DEFAULT_LIMITS.maxReopens;
    const n = state.reopenedCount(ticket.id);
    const files = merged.files.join(', ');
    if (n < max) {
      retryFeedback.set(
        ticket.id,
        `Your change conflicts with work merged onto the branch since you started (re-open ${n + 1} of at most ${max}). You now work on the new branch: make your change again on it, keeping what the other tickets did. Conflicting files: ${files}\n${merged.hunks}`,
      );
      const note = `re-opened (${n + 1} of ${max}): its change conflicts with ${branch.input.branch} in ${files}`;
      state.reopen(ticket.id, note);
      state.book.log({ by: 'maestro', action: 'reopen', ticketId: ticket.id, comment: note });
      return;
    }
    const reason = `its change still conflicts with ${branch.input.branch} in ${files} after ${n} re-open(s) (--max-reopens ${max})`;
    if (approved) return state.mark(ticket.id, 'failed', `${overruled}, but ${reason}: it cannot be merged`);
    await escalate(ticket, { ...outcome, status: 'escalated', escalation: 'reopen', escalationReason: reason });
  };

  const escalate = async (ticket: Ticket, outcome?: TicketOutcome, failure?: string): Promise<void> => {
    const attempts = attemptsText(state.ticketView(ticket.id).attempts, outcome?.attempts ?? 0);
    const reason = failure
      ? `${ticket.id} failed: ${failure}`
      : outcome?.escalation === 'turns' || outcome?.escalation === 'reopen' || outcome?.escalation === 'epic'
        ? `${ticket.id}: ${outcome.escalationReason ?? 'its agent ran out of turns'}`
        : outcome?.escalation === 'budget'
          ? `${ticket.id} used up its ticket budget after ${attempts}`
          : `${ticket.id} was not accepted after ${attempts}: ${outcome?.reviews.at(-1)?.feedback ?? ''}`;
    state.mark(ticket.id, failure ? 'failed' : 'escalated', reason);
    const policy = gatePolicy(state.input, 'ticket');
    // Approving accepts a result: a ticket that has none can only be retried, skipped or aborted.
    const promises = keepsGatePromises();
    const result = outcome && (hasResult(outcome) || !promises) ? outcome : undefined;
    const gate = state.book.open(
      'ticket',
      `${reason} — ${result ? 'approve anyway, ' : ''}retry with feedback, skip, or abort${result ? '' : ' (there is no result to approve)'}`,
      policy,
      ticket.id,
      result || !promises ? undefined : NO_RESULT_DECISIONS,
    );
    ctx.publish();
    await decideAtGate(ticket, gate, policy, result);
  };

  /** Waits for the decision on a ticket's gate and applies it (also for gates carried over). */
  const decideAtGate = async (ticket: Ticket, gate: GateView, policy: GatePolicy, result?: TicketOutcome) => {
    const promises = keepsGatePromises();
    // A ticket at a gate is undecided, not a dead end: its dependents must not be blocked yet.
    dag.hold(ticket.id, true);
    gateWaits.set(ticket.id, { ticketId: ticket.id, gateId: gate.id, ...(result ? { result } : {}) });
    const d = await awaitGate(state.book, gate, policy).finally(() => {
      dag.hold(ticket.id, false);
      gateWaits.delete(ticket.id);
    });
    switch (ticketDecision(d.decision, d.comment)) {
      case 'approve':
        // The gate refuses `approve` without a result; a gate recorded before that rule skips.
        if (result && state.branch) return integrate(ticket, result, `accepted by ${d.by} at the ticket gate`);
        if (result) return state.accept(result, `accepted by ${d.by} at the ticket gate`);
        if (!promises) return state.accept(emptyOutcome(ticket.id), `accepted by ${d.by} without a result`);
        return state.mark(ticket.id, 'skipped', `${d.by} approved it, but it has no result to accept`);
      case 'retry':
        if (stopped || abort) return state.mark(ticket.id, 'skipped', 'the run is stopping');
        retryFeedback.set(ticket.id, d.comment ?? `${d.by} asked for another round: check every acceptance criterion.`);
        return state.mark(ticket.id, 'pending');
      case 'abort':
        abort = d;
        return;
      default:
        state.mark(ticket.id, 'skipped', `skipped by ${d.by}${d.comment ? `: ${d.comment}` : ''}`);
    }
  };

  const launch = (ticket: Ticket, run: () => Promise<void>) => {
    busy++;
    void run()
      .catch((err: unknown) => {
        // E.g. a ticket gate whose timeout policy is to fail the run: keep its type and message.
        fatal ??=
          err instanceof ApplicationFailure
            ? err
            : ApplicationFailure.create({
                type: FailureType.Internal,
                message: `ticket ${ticket.id}: ${String(err)}`,
                nonRetryable: true,
              });
      })
      .finally(() => {
        busy--;
        state.version++;
        ctx.publish();
      });
  };

  /** Settles the ticket gates nobody needs to decide any more: the run is ending. */
  const closeTicketGates = (why: string) => {
    for (const gate of state.book.pending()) {
      if (gate.kind === 'ticket') state.book.settle(gate, { decision: 'skip', by: 'maestro', comment: why });
    }
  };

  for (const [id, feedback] of ctx.resume?.retryFeedback ?? []) retryFeedback.set(id, feedback);
  for (const wait of ctx.resume?.gateWaits ?? []) {
    const gate = state.book.gates.find((g) => g.id === wait.gateId && g.state === 'pending');
    const ticket = byId.get(wait.ticketId);
    if (gate && ticket) launch(ticket, () => decideAtGate(ticket, gate, carriedPolicy(state, gate), wait.result));
  }

  try {
    for (;;) {
      if (abort || fatal) {
        for (const scope of scopes.values()) scope.cancel();
        closeTicketGates(abort ? `the run was aborted by ${abort.by}` : 'the run failed');
        await condition(() => children === 0);
        if (abort) {
          throw ApplicationFailure.create({
            type: FailureType.Aborted,
            message: `the run was aborted by ${abort.by}${abort.comment ? `: ${abort.comment}` : ''}`,
            nonRetryable: true,
          });
        }
        throw ApplicationFailure.create({
          type: fatal!.type ?? FailureType.Internal,
          message: fatal!.message,
          nonRetryable: true,
        });
      }
      for (const id of dag.blocked()) state.mark(id, 'blocked', 'a dependency was not accepted');
      const free = Math.max(0, ctx.maxParallel - children);
      // The first `free` ready tickets (at least one, to know whether any is ready).
      // Repo runs look further: tickets held back by a running one's files leave room for others.
      const ready = stopped ? [] : dag.ready(Math.max(1, free) + (state.branch ? REPO_LOOKAHEAD : 0));
      draining ||= !stopped && ctx.historyFull();
      if (!stopped && state.overBudget() && (ready.length > 0 || ctx.waitingForPermit())) {
        if (!(await ctx.budgetGate())) {
          stopped = true;
          for (const [id, scope] of scopes) {
            // An epic whose sub-run draws on this budget stops on its own and ends with what it
            // accepted, which the run keeps; anything else is cancelled.
            if (drawsOnRunBudget(state, byId.get(id))) stopEpic(state, id).catch(() => scope.cancel());
            else scope.cancel();
          }
          closeTicketGates('the budget was not extended');
          for (const [id, s] of state.states())
            if (s === 'pending') state.mark(id, 'skipped', 'the budget was not extended');
        }
        continue;
      }
      let launched = 0;
      for (const id of draining ? [] : state.branch ? ready : ready.slice(0, free)) {
        const ticket = byId.get(id)!;
        // Repo runs: a ticket that would change files a running one changes waits for it.
        if (state.branch && (launched >= free || overlapsRunning(state, byId, ticket))) continue;
        launched++;
        const feedback = retryFeedback.get(id);
        retryFeedback.delete(id);
        launch(ticket, () => runChild(ticket, feedback));
      }
      ctx.publish();
      if (busy === 0 && (stopped || ready.length === 0)) return stopped ? 'stopped' : 'done';
      if (draining && children === 0) {
        return { retryFeedback: [...retryFeedback], gateWaits: [...gateWaits.values()] };
      }
      const seen = state.version;
      await condition(() => state.version !== seen || abort !== undefined || fatal !== undefined);
    }
  } catch (err) {
    if (!isCancellation(err) || !keepsGatePromises()) throw err;
    // The run was cancelled: its children are being cancelled too (their scopes are the run's).
    // Wait for them, boundedly, so the status shows their final states and not "running".
    for (const scope of scopes.values()) scope.cancel();
    await CancellationScope.nonCancellable(() => condition(() => children === 0, CHILD_CANCEL_WAIT));
    for (const [id, s] of state.states()) {
      if (s === 'pending' || s === 'running') state.mark(id, 'skipped', 'the run was cancelled');
    }
    throw err;
  }
}

/** A carried gate's policy: its timeout counts from when it opened, not from the continuation. */
function carriedPolicy(state: RunState, gate: GateView): GatePolicy {
  const policy = gatePolicy(state.input, 'ticket');
  if (!gate.deadline || policy.timeoutMs === undefined) return policy;
  return { ...policy, timeoutMs: state.book.msUntil(gate.deadline) };
}

/**
 * `3 attempt(s) in all`, with `(1 in this round)` when earlier rounds (a retry at its gate, a
 * re-open) made some: the same count the ticket's status line shows (TicketView.attempts, the
 * work attempts of every round), so a gate and the line above it never disagree.
 */
export function attemptsText(total: number, thisRound: number): string {
  return `${total} attempt(s) in all${total !== thisRound ? ` (${thisRound} in this round)` : ''}`;
}

/** What histories recorded before no-result tickets were refused accepted at a ticket gate. */
function emptyOutcome(ticketId: string): TicketOutcome {
  return {
    ticketId,
    status: 'accepted',
    attempts: 0,
    summary: '(no result)',
    artifacts: [],
    reviews: [],
    workUsage: emptyUsage(),
    reviewUsage: emptyUsage(),
    calls: [],
  };
}

/** Whether an outcome has something a person could accept: a summary or files. */
function hasResult(outcome: TicketOutcome): boolean {
  return outcome.summary.trim() !== '' || outcome.artifacts.length > 0;
}

/** The ticket page's details in the Web UI: the model's spec (one paragraph) and criteria as literal text. */
function ticketDetails(ticket: Ticket): string {
  const deps = ticket.dependsOn.length > 0 ? ticket.dependsOn.join(', ') : 'none';
  return `${markdownInline(ticket.spec)}\n\n**Acceptance criteria**\n${ticket.acceptanceCriteria.map((c) => `- ${markdownInline(c)}`).join('\n')}\n\n**Depends on:** ${deps}`;
}
