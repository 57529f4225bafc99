/**
 * A reviewer bot: starts a run whose plan needs approval, waits for the plan gate, reads the
 * plan, rejects the first one with a comment (the Boss re-plans with it) and approves the
 * re-plan. Every decision lands in the run's audit log under the bot's name.
 *
 *   npx tsx examples/reviewer-bot.ts "Build a landing page for a tea room called Steep"
 */
import { connectMaestro, describeFailure, type MaestroClient } from 'maestro-agents';

const BOT = 'reviewer-bot';

/** The bot's policy: one round of feedback on the first plan, then approve. */
async function review(maestro: MaestroClient, runId: string, round: number): Promise<void> {
  const status = await maestro.status(runId);
  console.log(`Plan ${round}: ${status.planSummary ?? '(no summary)'}`);
  for (const t of status.tickets) console.log(`  ${t.id} [${t.role}] ${t.title}`);
  if (round === 1) {
    const comment = 'Name the tea room in the page title and keep the copy under 200 words.';
    await maestro.reject(runId, { gate: 'plan', by: BOT, comment });
    console.log(`Rejected plan ${round}: ${comment}`);
  } else {
    const { gate } = await maestro.approve(runId, { gate: 'plan', by: BOT, comment: 'Looks good.' });
    console.log(`Approved plan ${round} (${gate.id})`);
  }
}

async function main(): Promise<void> {
  const goal = process.argv[2] ?? 'Build a landing page for a tea room called Steep';
  const maestro = await connectMaestro();
  try {
    const runId = await maestro.start(goal, { planApproval: 'manual' });
    console.log(`Started ${runId}, waiting for its plan`);
    let round = 0;
    for await (const e of maestro.events(runId)) {
      if (e.type === 'gate' && e.event === 'opened' && e.gate.kind === 'plan') await review(maestro, runId, ++round);
      if (e.type === 'end') console.log(`Run ended: ${e.phase}, ${e.accepted}/${e.tickets} tickets accepted`);
    }
    const result = await maestro.result(runId);
    const decisions = result.audit.filter((a) => a.by === BOT);
    console.log(
      `Result: ${result.status}; the bot's decisions: ${decisions.map((a) => `${a.action} ${a.gate}`).join(', ')}`,
    );
  } finally {
    await maestro.close();
  }
}

main().catch((err: unknown) => {
  console.error(`reviewer-bot: ${describeFailure(err)}`);
  process.exit(1);
});
