/** `maestro approve|reject|raise-budget|cancel`: people deciding on a run from the CLI. */
import { InvalidArgumentError, type Command } from 'commander';
import { ticketWorkflowId } from '../../shared/constants';
import { ACCEPTED_OVER_FAILURES } from '../../shared/outcomes';
import { GATE_KINDS, GateId, isGateKind } from '../../shared/gate-id';
import type { Decision } from '../../shared/messages';
import { localUser } from '../gate-prompt';
import { hasPollers } from '../../dev/runtime';
import { UnavailableError } from '../exit-codes';
import {
  parseChoiceOption,
  parseIntOption,
  parsePositiveOption,
  parseRunIdOption,
  parseTicketIdOption,
} from '../options';
import { withSession } from '../session';

interface DecisionFlags {
  gate?: string;
  epic?: string;
  ticket?: string;
  by?: string;
  comment?: string;
  action?: 'retry' | 'skip' | 'abort';
}

/** `--gate`: a kind, or the id of the gate the person saw (`plan#2`), which cannot land on a later gate. */
function parseGateOption(value: string): string {
  if (isGateKind(value) || GateId.safeParse(value).success) return value;
  throw new InvalidArgumentError(
    `--gate takes one of ${GATE_KINDS.join(', ')}, or a gate id such as plan#2 or ticket:T3#5 (see \`maestro status\`); got "${value}".`,
  );
}

function addDecisionFlags(cmd: Command): Command {
  return cmd
    .argument('<runId>', 'the run id', parseRunIdOption)
    .option(
      '--gate <id|kind>',
      'the gate id from `maestro status` (e.g. plan#2, ticket:T3#5), or plan, ticket, final or budget while one gate of that kind is pending (may be left out when one gate is pending)',
      parseGateOption,
    )
    .option('--ticket <id>', 'the ticket of a ticket gate, e.g. T3')
    .option(
      '--epic <id>',
      'decide a gate of the sub-run of this epic ticket (e.g. T3), as `maestro status` lists it under the epic',
      parseTicketIdOption('--epic'),
    )
    .option('--by <name>', 'who decides, for the audit log (default: your user name)')
    .option('--comment <text>', 'why; for a rejection this is the feedback the Boss or worker gets');
}

async function decide(runId: string, decision: Decision, flags: DecisionFlags): Promise<void> {
  await withSession({ worker: 'never' }, async ({ api, config, runtime }) => {
    // A decision is an update, which only a worker can answer: never wait for one that is not there.
    if (!(await hasPollers(config, runtime.address))) {
      throw new UnavailableError(
        `No worker is running for task queue ${config.temporal.taskQueue} on ${runtime.address}, so run ${runId} cannot take a decision now. ` +
          'Start `maestro dev` (or `maestro worker`) and decide again; the gate keeps waiting meanwhile.',
      );
    }
    // A gate of an epic's sub-run is decided on the sub-run, whose id is `<runId>/<epic>`.
    const target = flags.epic ? ticketWorkflowId(runId, flags.epic) : runId;
    const { gate } = await api.decide(target, {
      decision,
      ...(flags.gate ? { gate: flags.gate } : {}),
      ...(flags.ticket ? { ticketId: flags.ticket } : {}),
      by: flags.by ?? localUser(),
      ...(flags.comment ? { comment: flags.comment } : {}),
    });
    console.log(
      `${flags.epic ? `${flags.epic} ` : ''}${gate.id}: ${gate.state} (${gate.decision?.decision}) by ${gate.decision?.by}`,
    );
    // Approving a ticket's own gate accepts work its review did not: say what the run will show.
    if (gate.kind === 'ticket' && gate.tool === undefined && gate.state === 'approved')
      console.log(
        `${gate.ticketId ?? 'The ticket'} is ${ACCEPTED_OVER_FAILURES}: the run will not end completed (at best partial, exit code 3).`,
      );
  });
}

/** Registers the decision commands. */
export function registerGateCommands(program: Command): void {
  addDecisionFlags(
    program
      .command('approve')
      .description('approve the pending gate of a run (a ticket gate: accept its result anyway)'),
  ).action((runId: string, flags: DecisionFlags) => decide(runId, 'approve', flags));

  addDecisionFlags(
    program
      .command('reject')
      .description(
        'reject the pending gate: plan -> re-plan with your comment; final -> revise once; budget -> stop; ticket -> see --action',
      ),
  )
    .option(
      '--action <what>',
      'for a ticket gate: retry (with --comment as feedback), skip, or abort the run (default: retry with a comment, else skip)',
      parseChoiceOption('--action', ['retry', 'skip', 'abort'] as const),
    )
    .action((runId: string, flags: DecisionFlags) => decide(runId, flags.action ?? 'reject', flags));

  program
    .command('raise-budget')
    .description("add to a run's budget; a pending budget gate closes once there is room again")
    .argument('<runId>', 'the run id', parseRunIdOption)
    .option('--usd <usd>', 'dollars to add', parsePositiveOption('--usd', 1_000_000))
    .option('--tokens <n>', 'tokens to add', parseIntOption('--tokens', 1, 1e12))
    .option('--by <name>', 'who raises it, for the audit log (default: your user name)')
    .action(async (runId: string, flags: { usd?: number; tokens?: number; by?: string }) => {
      await withSession({ worker: 'never' }, async ({ api }) => {
        await api.raiseBudget(runId, { usd: flags.usd, tokens: flags.tokens, by: flags.by ?? localUser() });
        console.log(
          `Budget of ${runId} raised${flags.usd ? ` by $${flags.usd}` : ''}${flags.tokens ? ` by ${flags.tokens} tokens` : ''}.`,
        );
      });
    });

  program
    .command('cancel')
    .description('cancel a run: its tickets and in-flight LLM calls stop; produced files stay in the store')
    .argument('<runId>', 'the run id', parseRunIdOption)
    .action(async (runId: string) => {
      await withSession({ worker: 'never' }, async ({ api }) => {
        await api.cancel(runId);
        console.log(`Cancellation of ${runId} requested.`);
      });
    });
}
