/**
 * No Maestro client class: plain `@temporalio/client` with Maestro's exported wire definitions.
 * Starts the orchestrator workflow with a typed input, waits for the plan gate through the
 * `status` query and approves it with the `decide` update (validated with the exported schema).
 *
 *   npx tsx examples/raw-temporal.ts "Write a short guide to brewing green tea"
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import {
  DEFAULT_TASK_QUEUE,
  DecidePayload,
  ORCHESTRATOR_WORKFLOW,
  decideUpdate,
  defaultRunRoles,
  statusQuery,
  type RunInput,
  type orchestratorWorkflow,
} from 'maestro-agents/wire';

async function main(): Promise<void> {
  const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS ?? 'localhost:7233' });
  try {
    const client = new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' });
    const input: RunInput = {
      goal: process.argv[2] ?? 'Write a short guide to brewing green tea',
      roles: defaultRunRoles(),
      planApproval: 'manual',
    };
    const handle = await client.workflow.start<typeof orchestratorWorkflow>(ORCHESTRATOR_WORKFLOW, {
      workflowId: `raw-${Date.now()}`,
      taskQueue: process.env.MAESTRO_TASK_QUEUE ?? DEFAULT_TASK_QUEUE,
      args: [input],
    });
    console.log(`Started ${handle.workflowId}`);

    for (;;) {
      const status = await handle.query(statusQuery).catch(() => undefined);
      const gate = status?.pendingGates.find((g) => g.kind === 'plan');
      if (gate) {
        console.log(`Plan gate ${gate.id}: ${gate.reason}`);
        break;
      }
      await sleep(300);
    }
    const decision = DecidePayload.parse({ decision: 'approve', gate: 'plan', by: 'raw-script' });
    const { gate } = await handle.executeUpdate(decideUpdate, { args: [decision] });
    console.log(`${gate.id}: ${gate.state} by ${gate.decision?.by}`);

    const result = await handle.result();
    console.log(`Result: ${result.status}, ${result.tickets.length} tickets, $${result.cost.usd.toFixed(4)}`);
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  console.error(`raw-temporal: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
