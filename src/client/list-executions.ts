/**
 * Listing runs when some of them cannot be decoded. `client.workflow.list` decodes every memo
 * through the client's payload codec and ends the whole listing at the first one it cannot read,
 * so one encrypted run (written with a key this client lacks) would hide every other run from
 * `maestro list`. This pages through the same visibility API and decodes each execution on its
 * own: a run whose memo cannot be read is still listed (search attributes are never encoded, so
 * phase and cost stay known), with the reason instead of its goal.
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { executionInfoFromRaw } from '@temporalio/client/lib/helpers';
import { explainPayloadError } from '../codec/aes-gcm-codec';

/** One listed execution, and why its memo was left out when it could not be decoded. */
export interface ListedExecution {
  info: WorkflowExecutionInfo;
  memoProblem?: string;
}

type RawExecution = Parameters<typeof executionInfoFromRaw>[0];

/** Executions matching `query`, page by page (lazily, like `client.workflow.list`). */
export async function* listExecutions(client: Client, query: string): AsyncGenerator<ListedExecution> {
  const namespace = client.options.namespace;
  const converter = client.options.loadedDataConverter;
  let nextPageToken: Uint8Array = Buffer.alloc(0);
  for (;;) {
    const page = await client.workflowService.listWorkflowExecutions({ namespace, query, nextPageToken });
    for (const raw of page.executions as RawExecution[]) {
      let listed: ListedExecution;
      try {
        listed = { info: await executionInfoFromRaw(raw, converter, raw, namespace) };
      } catch (err) {
        const info = await executionInfoFromRaw({ ...raw, memo: null }, converter, raw, namespace);
        listed = { info, memoProblem: explainPayloadError(err) ?? (err instanceof Error ? err.message : String(err)) };
      }
      yield listed;
    }
    if (!page.nextPageToken || page.nextPageToken.length === 0) return;
    nextPageToken = page.nextPageToken;
  }
}
