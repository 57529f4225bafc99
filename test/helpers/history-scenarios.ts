/**
 * The paths test/workflows/replay.test.ts keeps histories of: a finished run (plan gate settled by
 * its timeout, budget permits, a ticket that needed a revision), a finished agent run (tool calls,
 * a first-use tool approval settled by the gate policy), a budgeted run whose tickets each go on one
 * permit grant, a run whose Tester's failing test re-opened
 * the Coder's ticket, and every state a run can be in while a
 * deploy happens: each gate kind pending, a risky-tool approval pending inside an agent loop, a
 * ticket in the middle of a revision, a planning failure. test/helpers/record-histories.ts runs them.
 */
import type { AgentSettings } from '../../src/shared/tools';
import type { RoleInfo, RunInput, RunStatus } from '../../src/shared/types';
import type { ArtifactStore } from '../../src/activities/artifacts/store';
import { makeRepo, packRepo } from './repo-git';
import { TEST_ROLES } from './temporal';

/** A history event as the recorder reads it. */
export type Events = { events?: unknown[] | null };
type Attrs = { activityType?: { name?: string }; scheduledEventId?: unknown };

/** A recorded path: how the run starts, when its history is saved, and which workflow's. */
export interface Scenario {
  file: string;
  input: Omit<RunInput, 'roles'> & { roles?: RoleInfo[] };
  /** Saves once this holds ('closed': when the run has ended). */
  until: ((s: RunStatus) => boolean) | 'closed';
  /** Saves a child's history instead of the run's, once `ready` holds for it. */
  child?: { id: string; ready: (history: Events) => boolean };
  /** Also saves children of the same run once the run is recorded (file name, id below the run's). */
  alsoChildren?: { file: string; id: string }[];
  /**
   * For a run that continues as new with gates pending: once an execution starts from carried gate
   * waits, people approve those gates and the run finishes; `file` gets that execution (restore,
   * decisions, the rest of the run) and this file the one before it (ends in ContinuedAsNew).
   */
  previousExecution?: string;
  /** Adds to the input what needs the worker's artifact store (a repo run's packed repository). */
  prepare?: (store: ArtifactStore) => Promise<Partial<RunInput>>;
}

/** A repo run's input: a small repository packed into the recorder's store. */
async function repoRunInput(store: ArtifactStore): Promise<Partial<RunInput>> {
  const repo = await makeRepo({ 'README.md': '# Notes\n', 'notes/index.md': '- first\n' });
  return {
    repo: {
      name: 'notes',
      baseRef: 'HEAD',
      snapshot: await packRepo(repo.dir, store),
      map: '# Repository map: notes at 000000000000 (2 files, 20 B)\n## Tree\n- README.md (8 B)\n- notes/index.md (8 B)',
      branch: 'maestro/recorded-repo-run',
    },
  };
}

const gate = (kind: string) => (s: RunStatus) => s.pendingGates.some((g) => g.kind === kind);

/** Activities of one type in a history: how many were scheduled and how many finished. */
export function activityCounts(h: Events, type: string): { scheduled: number; completed: number } {
  const ids = new Set<string>();
  let completed = 0;
  for (const e of h.events ?? []) {
    const ev = e as { eventId?: unknown } & Record<string, Attrs | undefined>;
    if (ev.activityTaskScheduledEventAttributes?.activityType?.name === type) ids.add(String(ev.eventId));
    const done = ev.activityTaskCompletedEventAttributes;
    if (done && ids.has(String(done.scheduledEventId))) completed++;
  }
  return { scheduled: ids.size, completed };
}

/** Every role an agent with the given tools (as `examples/demo.config.json` gives the Coder its tools). */
const agentRoles = (agent: AgentSettings): RoleInfo[] => TEST_ROLES.map((r) => ({ ...r, agent }));

/** The current generation's scenarios (recorded into the newest fixture folder). */
export const SCENARIOS: Scenario[] = [
  {
    file: 'orchestrator-website.json',
    input: {
      goal: 'Build a landing page for a tea room called Steep [sim:invalid-plan=1]',
      planApproval: 'manual',
      gatePolicies: { plan: { timeoutMs: 300, onTimeout: 'approve' } },
      budget: { usd: 5 },
      searchAttributes: true,
    },
    until: 'closed',
    alsoChildren: [{ file: 'ticket-with-revision.json', id: 'T3' }],
  },
  {
    file: 'agent-run.json',
    input: {
      goal: 'Write two short guides to pruning roses [sim:tickets=2]',
      roles: agentRoles({ tools: ['list_files', 'write_file'], approvals: { list_files: 'first-use' } }),
      maxParallel: 1,
      gatePolicies: { ticket: { timeoutMs: 300, onTimeout: 'approve' } },
      searchAttributes: true,
    },
    until: 'closed',
    alsoChildren: [
      { file: 'agent-run-ticket.json', id: 'T1' },
      { file: 'agent-loop-finished.json', id: 'T1/agent-1' },
    ],
  },
  {
    file: 'pending-tool-approval.json',
    input: {
      goal: 'Write a short guide to pruning apple trees [sim:tickets=1]',
      roles: agentRoles({ tools: ['list_files', 'write_file'], approvals: { write_file: 'always' } }),
      searchAttributes: true,
    },
    // list_files ran (no approval needed); write_file waits for a person at a ticket gate.
    until: gate('ticket'),
    alsoChildren: [
      { file: 'pending-tool-approval-ticket.json', id: 'T1' },
      { file: 'agent-loop-pending-approval.json', id: 'T1/agent-1' },
    ],
  },
  {
    // The Tester's test fails on the Coder's first page (no lang): the Boss's review re-opens T3,
    // then T4 runs again and passes (the re-open path, behind REOPEN_PATCH).
    file: 'agent-reopen.json',
    input: {
      goal: 'Build a landing page for a tea room called Leaf Lounge',
      roles: TEST_ROLES.map((r) =>
        r.name === 'coder' || r.name === 'tester'
          ? { ...r, agent: { tools: ['list_files', 'read_file', 'write_file', 'run_command', 'check_page'] } }
          : r,
      ),
      searchAttributes: true,
    },
    until: 'closed',
  },
  {
    file: 'pending-plan-gate.json',
    input: { goal: 'Build a landing page for a bakery called Crumb', planApproval: 'manual', searchAttributes: true },
    until: gate('plan'),
  },
  {
    file: 'pending-ticket-gate.json',
    input: {
      goal: 'Build a landing page for a florist called Petal [sim:revise=5]',
      maxRevisions: 1,
      searchAttributes: true,
    },
    until: gate('ticket'),
  },
  {
    file: 'pending-final-gate.json',
    input: { goal: 'Build a landing page for a gym called Lift', finalApproval: 'manual', searchAttributes: true },
    until: gate('final'),
  },
  {
    file: 'pending-budget-gate.json',
    input: { goal: 'Build a landing page for a cinema called Reel', budget: { usd: 0.0005 }, searchAttributes: true },
    until: gate('budget'),
  },
  {
    file: 'planning-failure.json',
    input: { goal: 'Build a landing page for a diner called Fry [sim:invalid-plan=9]', maxReplans: 1 },
    until: 'closed',
  },
  {
    // A history bound of 20 events makes the run continue as new at its quiet point once both
    // tickets wait at their gates (no revision allowed). The next execution starts from carried
    // state (plan, tickets, pending gates, audit, spending), waits again, and finishes once a
    // person approved both gates: replay checks the restore against everything that follows.
    file: 'continued-gates-decided.json',
    previousExecution: 'continued-before.json',
    input: {
      goal: 'Write a short guide to oolong tea [sim:tickets=2] [sim:width=2] [sim:revise=1]',
      maxParallel: 2,
      maxRevisions: 0,
      budget: { usd: 100 },
      maxHistoryEvents: 20,
      searchAttributes: true,
    },
    until: (s) => s.pendingGates.filter((g) => g.kind === 'ticket').length === 2,
  },
  {
    // A budgeted run whose tickets each stay within the grant given at their start: work, review
    // and a revision's work and review go on it without a permit signal (patch maestro-ticket-grant-1).
    file: 'budget-one-grant.json',
    input: {
      goal: 'Build a landing page for a florist called Petal [sim:tickets=2] [sim:revise=1]',
      budget: { usd: 50 },
      maxRevisions: 2,
      searchAttributes: true,
    },
    until: 'closed',
    alsoChildren: [{ file: 'budget-one-grant-ticket.json', id: 'T1' }],
  },
  {
    // A run on a git repository (issue 20): tickets' files merged one at a time onto the run branch.
    file: 'repo-run.json',
    input: { goal: 'Build a landing page for a bakery called Crumb [sim:tickets=3]' },
    prepare: repoRunInput,
    until: 'closed',
  },
  {
    file: 'ticket-mid-revision.json',
    input: { goal: 'Build a landing page for a bookshop called Spine [sim:revise=2]', maxRevisions: 3 },
    until: (s) => s.phase === 'executing',
    // Saved while T1's second performTicket (the revision) is scheduled and not yet done.
    child: {
      id: 'T1',
      ready: (h) => {
        const p = activityCounts(h, 'performTicket');
        return p.scheduled >= 2 && p.completed === p.scheduled - 1;
      },
    },
  },
];

/** Every file the current generation's scenarios write. */
export const SCENARIO_FILES: string[] = SCENARIOS.flatMap((s) => [
  s.file,
  ...(s.previousExecution ? [s.previousExecution] : []),
  ...(s.alsoChildren ?? []).map((c) => c.file),
]);
