/**
 * One ticket as a child workflow: the role works, the Boss reviews, and the loop repeats with
 * the feedback at most `maxRevisions` times. A ticket that is still not accepted is returned as
 * "escalated" for the orchestrator to decide on; children never wait for humans.
 */
import { proxyActivities, setHandler } from '@temporalio/workflow';
import type { MaestroActivities } from '../activities';
import { ticketStatusQuery, type TicketProgress } from '../shared/messages';
import type { TicketInput, TicketOutcome } from '../shared/types';
import { addUsage, emptyUsage } from '../shared/usage';
import { LLM_ACTIVITY } from './activity-options';

const { performTicket, reviewTicket } = proxyActivities<MaestroActivities>(LLM_ACTIVITY);

function outcomeUsage(p: TicketProgress) {
  return { reviews: p.reviews, workUsage: p.workUsage, reviewUsage: p.reviewUsage };
}

/** Executes and reviews one ticket, bounded by `maxRevisions`. */
export async function ticketWorkflow(input: TicketInput): Promise<TicketOutcome> {
  const { ticket } = input;
  const progress: TicketProgress = {
    ticketId: ticket.id,
    attempt: 0,
    stage: 'working',
    reviews: [],
    workUsage: emptyUsage(),
    reviewUsage: emptyUsage(),
  };
  setHandler(ticketStatusQuery, () => progress);

  let feedback: string | undefined;
  let last = { summary: '', artifacts: [] as TicketOutcome['artifacts'] };
  const maxAttempts = input.maxRevisions + 1;
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    progress.attempt = attempt;
    progress.stage = 'working';
    const work = await performTicket.executeWithOptions({ summary: `${ticket.role} ${ticket.id} attempt ${attempt}` }, [
      { runId: input.runId, ticket, dependencies: input.dependencies, feedback, attempt },
    ]);
    progress.workUsage = addUsage(progress.workUsage, work.usage);
    last = { summary: work.summary, artifacts: work.artifacts };

    progress.stage = 'reviewing';
    const { review, usage } = await reviewTicket.executeWithOptions(
      { summary: `review ${ticket.id} attempt ${attempt}` },
      [
        {
          runId: input.runId,
          ticket,
          summary: work.summary,
          artifacts: work.artifacts,
          attempt,
          revisionsLeft: maxAttempts - attempt,
        },
      ],
    );
    progress.reviewUsage = addUsage(progress.reviewUsage, usage);
    progress.reviews.push({ attempt, verdict: review.verdict, feedback: review.feedback });
    if (review.verdict === 'accept') {
      progress.stage = 'done';
      return { ticketId: ticket.id, status: 'accepted', attempts: attempt, ...last, ...outcomeUsage(progress) };
    }
    feedback =
      review.feedback || 'The reviewer asked for a revision without details: check every acceptance criterion again.';
  }
  progress.stage = 'done';
  return { ticketId: ticket.id, status: 'escalated', attempts: maxAttempts, ...last, ...outcomeUsage(progress) };
}
