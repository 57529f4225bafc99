/**
 * The run branch of a repo run (issue 20), inside the orchestrator: where the branch is now, the
 * commits on it, the tree each running ticket started on, and the merge queue that puts accepted
 * tickets on it one at a time, in the order they were accepted. Merging is the `mergeTicket`
 * activity, whose input (commit time included) is fixed here, so a retried merge makes the same
 * commit. Plain data travels across continue-as-new. Only repo runs create one, so histories of
 * other runs replay unchanged.
 */
import { condition, proxyActivities } from '@temporalio/workflow';
import type { MaestroActivities } from '../activities';
import type { MergeTicketOutput, RepoCommit, RepoInput, RepoSnapshot, RepoTestResult, RepoWork } from '../shared/repo';
import { NON_RETRYABLE_FAILURES } from '../shared/errors';
import type { ArtifactRef } from '../shared/types';
import { markdownInline, summaryText } from '../shared/model-text';

const RETRY = {
  initialInterval: 1_000,
  backoffCoefficient: 2,
  maximumAttempts: 5,
  nonRetryableErrorTypes: NON_RETRYABLE_FAILURES,
};

/**
 * Repository activities: merges heartbeat (a killed worker's merge moves to another within 30 s,
 * and makes the same commit there); test runs are bounded by the sandbox's own limits.
 */
export const repo = {
  mergeTicket: proxyActivities<MaestroActivities>({
    startToCloseTimeout: '20 minutes',
    heartbeatTimeout: '30 seconds',
    retry: RETRY,
  }).mergeTicket,
  // The sandbox stops a test command after its own limit (10 minutes); the activity heartbeats.
  repoTests: proxyActivities<MaestroActivities>({
    startToCloseTimeout: '15 minutes',
    heartbeatTimeout: '1 minute',
    retry: RETRY,
  }).repoTests,
};

/**
 * The repository's tests on a ticket's tree as one line of the checks its review sees (the
 * output's tail included, bounded).
 */
export function repoTestCheck(r: RepoTestResult): string {
  const how = r.passed
    ? 'passed'
    : r.stopped
      ? `were stopped (${r.stopped})`
      : `FAILED (exit code ${r.exitCode ?? 'none'})`;
  const tail = r.output.length > 3000 ? `…${r.output.slice(-3000)}` : r.output;
  return `The repository's own tests \`${r.command}\` on this ticket's tree ${how} in ${Math.round(r.durationMs / 1000)} s${r.passed ? '' : `; output:\n${tail}`}`;
}

/** The branch as plain data (RunStateData.repo). */
export interface RepoBranchData {
  head: RepoSnapshot;
  commits: RepoCommit[];
  /** The branch after each commit (same order as `commits`): what bisecting tests. */
  heads: RepoSnapshot[];
  /** The snapshot each started ticket works on. */
  starts: [string, RepoSnapshot][];
  tests?: RepoTestResult;
}

/** The run branch of a repo run (see the file comment). */
export class RepoBranch {
  head: RepoSnapshot;
  readonly commits: RepoCommit[] = [];
  readonly heads: RepoSnapshot[] = [];
  readonly starts = new Map<string, RepoSnapshot>();
  tests?: RepoTestResult;
  /** Tickets waiting for the merge queue, first is merging. */
  private readonly queue: string[] = [];

  constructor(
    readonly input: RepoInput,
    readonly runId: string,
  ) {
    this.head = input.snapshot;
  }

  /** The tree a ticket starting now works on (remembered for its merge). */
  startTicket(ticketId: string): RepoWork {
    this.starts.set(ticketId, this.head);
    return {
      start: this.head,
      name: this.input.name,
      ...(this.input.testCommand ? { testCommand: this.input.testCommand } : {}),
    };
  }

  /** The tree a ticket worked on (the branch's base when it never started in this run's memory). */
  startOf(ticketId: string): RepoSnapshot {
    return this.starts.get(ticketId) ?? this.input.snapshot;
  }

  /** Whether a ticket waits in (or is at the head of) the merge queue. */
  merging(ticketId: string): boolean {
    return this.queue.includes(ticketId);
  }

  /**
   * Merges a ticket's files onto the branch: waits its turn (one merge at a time, in the order
   * asked), then runs `mergeTicket`. A merged ticket moves the branch.
   */
  async merge(
    ticket: { id: string; role: string; title: string },
    summary: string,
    files: ArtifactRef[],
  ): Promise<MergeTicketOutput> {
    this.queue.push(ticket.id);
    try {
      await condition(() => this.queue[0] === ticket.id);
      const at = new Date().toISOString();
      const out = await repo.mergeTicket.executeWithOptions(
        { summary: `merge ${ticket.id} onto ${this.input.branch}` },
        [
          {
            runId: this.runId,
            branch: this.input.branch,
            ticket: { id: ticket.id, role: ticket.role, title: ticket.title, summary },
            start: this.startOf(ticket.id),
            onto: this.head,
            files,
            at,
          },
        ],
      );
      if (out.status === 'merged') {
        this.head = out.snapshot;
        this.commits.push(out.commit);
        this.heads.push(out.snapshot);
      }
      return out;
    } finally {
      this.queue.splice(this.queue.indexOf(ticket.id), 1);
    }
  }

  /** Runs the repository's tests on a snapshot of the branch (none when no command is known). */
  async test(at: RepoSnapshot, what: string): Promise<RepoTestResult | undefined> {
    const command = this.input.testCommand;
    if (!command) return undefined;
    const result = await repo.repoTests.executeWithOptions(
      { summary: `repo tests on ${what}: ${summaryText(command)}` },
      [{ runId: this.runId, snapshot: at, own: [], testCommand: command }],
    );
    return { ...result, commit: at.head };
  }

  /**
   * The first commit of the series whose tests fail, given that the head's fail: a binary search
   * over the branch after each commit (log2(n) test runs). Undefined when the base fails too (no
   * ticket is to blame) or there are no commits.
   */
  async firstFailing(): Promise<{ commit: RepoCommit; result: RepoTestResult } | undefined> {
    if (this.heads.length === 0) return undefined;
    const base = await this.test(this.input.snapshot, `the base ${this.input.snapshot.base.slice(0, 12)}`);
    if (!base || !base.passed) return undefined;
    let lo = 0; // heads[lo..hi] holds the first failing one; heads[hi] fails (the head's did)
    let hi = this.heads.length - 1;
    let failing: RepoTestResult | undefined = this.tests;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const r = await this.test(this.heads[mid]!, `${this.commits[mid]!.ticketId}'s commit`);
      if (r && !r.passed) {
        hi = mid;
        failing = r;
      } else lo = mid + 1;
    }
    if (!failing || failing.commit !== this.heads[hi]!.head)
      failing = await this.test(this.heads[hi]!, `${this.commits[hi]!.ticketId}'s commit`);
    return failing ? { commit: this.commits[hi]!, result: failing } : undefined;
  }

  /** The diffstat of the whole series, bounded (commit by commit). */
  diffstat(max = 3000): string {
    const text = this.commits.map((c) => `${c.ticketId} ${c.commit.slice(0, 12)}\n${c.diffstat}`).join('\n');
    return text.length > max ? `${text.slice(0, max - 20)}\n… (more)` : text;
  }

  snapshot(): RepoBranchData {
    return {
      head: this.head,
      commits: [...this.commits],
      heads: [...this.heads],
      starts: [...this.starts],
      ...(this.tests ? { tests: this.tests } : {}),
    };
  }

  restore(data: RepoBranchData): void {
    this.head = data.head;
    this.commits.push(...data.commits);
    this.heads.push(...data.heads);
    for (const [id, s] of data.starts) this.starts.set(id, s);
    if (data.tests) this.tests = data.tests;
  }
}

/** Rows of the branch's commits shown in the Web UI's current details (the last 10). */
const DETAILS_COMMITS = 10;

/** The branch in the run's current details: where it is and its latest commits. */
export function branchDetails(b: RepoBranch): string {
  const rows = b.commits
    .slice(-DETAILS_COMMITS)
    .map((c) => `- \`${c.commit.slice(0, 12)}\` ${c.ticketId} (${c.role}): ${markdownInline(firstLine(c.diffstat))}`);
  const more = b.commits.length > DETAILS_COMMITS ? `\n- … and ${b.commits.length - DETAILS_COMMITS} earlier` : '';
  const tests = b.tests
    ? `\n\n**Tests on the branch:** ${b.tests.passed ? 'passed' : 'FAILED'} (\`${markdownInline(b.tests.command)}\`)`
    : '';
  return `**Branch** \`${markdownInline(b.input.branch)}\`: ${b.commits.length} commit(s) on \`${b.input.snapshot.base.slice(0, 12)}\`${rows.length ? `\n${rows.join('\n')}` : ''}${more}${tests}`;
}

/** The summary line of a diffstat (`2 files changed, 5 insertions(+)`). */
function firstLine(diffstat: string): string {
  const lines = diffstat.trim().split('\n');
  return (lines.at(-1) ?? '').trim();
}
