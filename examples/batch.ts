/**
 * A batch: starts one run per goal (a file with one goal per line, or ten built-in goals), each
 * with the same budget, waits for all of them and prints a cost table. A run that reaches its
 * budget stops there (the budget gate's timeout rejects more spending) instead of waiting.
 *
 *   npx tsx examples/batch.ts [goals.txt] [--budget-usd 0.50]
 */
import { readFileSync } from 'node:fs';
import { connectMaestro, describeFailure, newRunId, type MaestroRunResult } from 'maestro-agents';

const DEFAULT_GOALS = [
  'Build a landing page for a coffee shop called Bean There',
  'Build a landing page for a bakery called Rise',
  'Write a short guide to brewing green tea',
  'Write a checklist for moving house',
  'Build a one-page portfolio for a photographer',
  'Write release notes for version 2.0 of a todo app',
  'Build a landing page for a bike repair shop called Spoke',
  'Write a beginner guide to composting',
  'Build a contact page for a dental practice',
  'Write a FAQ for a community garden',
];

function args(): { goals: string[]; budgetUsd: number } {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--budget-usd');
  const budgetUsd = at >= 0 ? Number(argv.splice(at, 2)[1]) : 0.5;
  if (!Number.isFinite(budgetUsd) || budgetUsd <= 0) throw new Error('--budget-usd takes a positive number of dollars');
  const file = argv[0];
  const goals = file
    ? readFileSync(file, 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
    : DEFAULT_GOALS;
  return { goals, budgetUsd };
}

async function main(): Promise<void> {
  const { goals, budgetUsd } = args();
  const maestro = await connectMaestro();
  try {
    // One id prefix for the batch (`maestro-<time>-<random>-01` ...), so its runs sort together.
    const batch = newRunId();
    const runIds = await Promise.all(
      goals.map((goal, i) =>
        maestro.start(goal, {
          runId: `${batch}-${String(i + 1).padStart(2, '0')}`,
          budget: { usd: budgetUsd },
          gatePolicies: { budget: { timeoutMs: 60_000, onTimeout: 'reject' } },
        }),
      ),
    );
    console.log(`Started ${runIds.length} runs with a budget of $${budgetUsd.toFixed(2)} each`);
    const results = await Promise.allSettled(runIds.map((id) => maestro.result(id)));

    const rows = results.map((r, i) => row(runIds[i]!, goals[i]!, r));
    const header = ['run', 'status', 'tickets', 'tokens', 'cost', 'goal'];
    const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
    const line = (cells: string[]) =>
      cells.map((cell, c) => (c >= 2 && c <= 4 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ');
    console.log(line(header).trimEnd());
    for (const r of rows) console.log(line(r).trimEnd());
    const ok = results.filter((r): r is PromiseFulfilledResult<MaestroRunResult> => r.status === 'fulfilled');
    const total = ok.reduce((sum, r) => sum + r.value.cost.usd, 0);
    console.log(`Total: $${total.toFixed(4)} for ${ok.length}/${runIds.length} finished runs`);
    if (ok.length < runIds.length) process.exitCode = 1;
  } finally {
    await maestro.close();
  }
}

function row(runId: string, goal: string, r: PromiseSettledResult<MaestroRunResult>): string[] {
  if (r.status === 'rejected')
    return [runId, 'failed', '-', '-', '-', `${goal.slice(0, 40)} (${describeFailure(r.reason)})`];
  const res = r.value;
  const accepted = res.tickets.filter((t) => t.state === 'accepted').length;
  return [
    runId,
    res.status,
    `${accepted}/${res.tickets.length}`,
    String(res.cost.tokens),
    `$${res.cost.usd.toFixed(4)}`,
    goal.slice(0, 50),
  ];
}

main().catch((err: unknown) => {
  console.error(`batch: ${describeFailure(err)}`);
  process.exit(1);
});
