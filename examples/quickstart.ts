/**
 * Start a run, follow it live with `events`, then print the result and the files it produced.
 *
 *   maestro dev                                    # in another terminal: server, worker, LLM
 *   npx tsx examples/quickstart.ts "Build a landing page for a coffee shop called Bean There"
 *
 * Settings come from the same environment variables as the CLI (TEMPORAL_ADDRESS, ...).
 */
import path from 'node:path';
import { connectMaestro, describeFailure } from 'maestro-agents';

async function main(): Promise<void> {
  const goal = process.argv[2] ?? 'Build a landing page for a coffee shop called Bean There';
  const maestro = await connectMaestro();
  try {
    const runId = await maestro.start(goal);
    console.log(`Started ${runId}`);

    for await (const e of maestro.events(runId)) {
      if (e.type === 'phase') console.log(`phase: ${e.phase}`);
      if (e.type === 'ticket') console.log(`  ${e.id} [${e.role}] ${e.title}: ${e.state}`);
      if (e.type === 'end') console.log(`ended: ${e.phase}, ${e.accepted}/${e.tickets} tickets, $${e.usd.toFixed(4)}`);
    }

    const result = await maestro.result(runId);
    console.log(`Result: ${result.status} — ${result.report.headline}`);
    const { outDir, files } = await maestro.saveFiles(runId);
    console.log(`Files in ${outDir}:`);
    for (const file of files) console.log(`  ${path.relative(outDir, file)}`);
  } finally {
    await maestro.close();
  }
}

main().catch((err: unknown) => {
  console.error(`quickstart: ${describeFailure(err)}`);
  process.exit(1);
});
