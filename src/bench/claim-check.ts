/**
 * Measures what the claim check is meant to guarantee: workflow histories carry artifact refs,
 * never file contents. Sizes a run's histories and looks for a piece of every produced file in
 * them (as the JSON payload converter would have written it).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { RunResult } from '../shared/types';

/** Longest piece of a file searched for (bytes of its JSON-escaped text). */
const PROBE_BYTES = 64;

/** History sizes of one run and how many of its files showed up inside them. */
export interface HistoryFootprint {
  events: number;
  /** The orchestrator's history as JSON (what `fetchHistory` returns, stringified) and as protobuf. */
  jsonBytes: number;
  protoBytes: number;
  /** Mean JSON size of one ticket workflow's history. */
  childJsonBytesMean: number;
  /** Bytes of all files the run produced (kept in the artifact store). */
  artifactBytes: number;
  /** Files whose content was found in the orchestrator's or a ticket's history (0 when the claim check holds). */
  filesInHistory: number;
  filesChecked: number;
}

/** Fetches the run's histories (orchestrator and every ticket) and measures them. */
export async function historyFootprint(client: Client, result: RunResult): Promise<HistoryFootprint> {
  const main = await client.workflow.getHandle(result.runId).fetchHistory();
  // Tickets that never started (blocked, skipped) have no child workflow and no history.
  const fetched = await Promise.all(
    result.tickets.map((t) =>
      client.workflow
        .getHandle(t.childId)
        .fetchHistory()
        .catch((err: unknown) => {
          if (err instanceof WorkflowNotFoundError) return undefined;
          throw err;
        }),
    ),
  );
  const children = fetched.filter((h): h is NonNullable<typeof h> => h !== undefined);
  const encode = (h: temporal.api.history.v1.IHistory) =>
    Buffer.from(temporal.api.history.v1.History.encode(h).finish());
  const protos = [encode(main), ...children.map(encode)];
  const childJson = children.map((h) => Buffer.byteLength(JSON.stringify(h)));
  let found = 0;
  for (const entry of result.manifest) {
    const probe = await probeOf(entry.uri);
    if (probe && protos.some((p) => p.includes(probe))) found++;
  }
  return {
    events: main.events?.length ?? 0,
    jsonBytes: Buffer.byteLength(JSON.stringify(main)),
    protoBytes: protos[0]?.length ?? 0,
    childJsonBytesMean: childJson.reduce((a, b) => a + b, 0) / Math.max(1, childJson.length),
    artifactBytes: result.manifest.reduce((a, m) => a + m.bytes, 0),
    filesInHistory: found,
    filesChecked: result.manifest.length,
  };
}

/** A piece from the middle of the file, escaped as a JSON string (how a payload would hold it). */
async function probeOf(uri: string): Promise<Buffer | undefined> {
  if (!uri.startsWith('file:')) return undefined;
  const text = await readFile(fileURLToPath(uri), 'utf8').catch(() => undefined);
  if (text === undefined || text.length === 0) return undefined;
  const escaped = Buffer.from(JSON.stringify(text).slice(1, -1), 'utf8');
  if (escaped.length <= PROBE_BYTES) return escaped;
  const start = Math.floor((escaped.length - PROBE_BYTES) / 2);
  return escaped.subarray(start, start + PROBE_BYTES);
}
