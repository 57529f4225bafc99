/**
 * Brings a run's files into this machine's artifact store when they are not there: the worker
 * that ran the run keeps them in its own MAESTRO_HOME (another machine, a container volume), so
 * the client asks it for them through Temporal in bounded chunks (see shared/artifact-chunks.ts)
 * and stores them locally, hash-checked. Output assembly then reads the local store as always.
 */
import { randomBytes } from 'node:crypto';
import { TimeoutFailure, WorkflowFailedError, type Client } from '@temporalio/client';
import { FsArtifactStore } from '../activities/artifacts/fs-store';
import { planChunkBatches, type BlobToFetch } from '../shared/artifact-chunks';
import type { ArtifactRef } from '../shared/types';
import type { exportArtifactsWorkflow } from '../workflows';
import { artifactRoot } from '../workers/activity-deps';
import { describeFailure } from './run-views';
import { workflowPollers } from './pollers';

/**
 * How long one export workflow (at most ARTIFACT_BATCH_BYTES) may take before the client gives up:
 * long enough for a busy worker, short enough when the listed worker has just gone away.
 */
const EXPORT_TIMEOUT = '1 minute';

/**
 * Largest file the client fetches from a worker: files a run keeps are far smaller (a tool call's
 * arguments are at most 1 MiB, a coding agent's kept files 1 MB), so a larger claim comes from a
 * forged or damaged history, and planning its chunk requests alone could exhaust memory.
 */
export const MAX_FETCHED_FILE_BYTES = 256 * 1024 * 1024;

/** Why a file reference read from a run (a result, or a cancelled run's history) cannot be fetched. */
function claimedFileProblem(ref: ArtifactRef): string | undefined {
  const name = typeof ref.path === 'string' ? JSON.stringify(ref.path.slice(0, 80)) : 'a file without a path';
  if (typeof ref.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(ref.sha256))
    return `${name} has no sha256 in lower-case hex`;
  if (!Number.isSafeInteger(ref.bytes) || ref.bytes < 0 || ref.bytes > MAX_FETCHED_FILE_BYTES)
    return `${name} claims ${String(ref.bytes)} bytes; a file has a whole number of bytes, at most ${MAX_FETCHED_FILE_BYTES}`;
  return undefined;
}

/** What `fetchMissingArtifacts` did. */
export interface FetchedArtifacts {
  /** Distinct blobs fetched from the worker (0: everything was local already). */
  blobs: number;
  bytes: number;
  /** Export workflows it took. */
  requests: number;
}

/**
 * Makes sure every blob of `artifacts` is in the local store under `home`, fetching the missing
 * ones from a worker of the run's task queue. Throws an Error that says what to do when no
 * worker is there or the worker does not have them either.
 */
export async function fetchMissingArtifacts(opts: {
  client: Client;
  home: string;
  runId: string;
  /** The run's task queue, when the caller knows it (else read from the run's description). */
  taskQueue?: string;
  artifacts: readonly ArtifactRef[];
  log?: (line: string) => void;
}): Promise<FetchedArtifacts> {
  const store = new FsArtifactStore(artifactRoot(opts.home));
  const missing = new Map<string, BlobToFetch>();
  for (const ref of opts.artifacts) {
    const problem = claimedFileProblem(ref);
    if (problem) {
      throw new Error(
        `Run ${opts.runId} lists a file that no Maestro worker writes (${problem}): nothing was fetched or written. Its history was not written by Maestro's workers, or is damaged.`,
      );
    }
    if (missing.has(ref.sha256)) continue;
    const local = await store.read(ref).then(
      () => true,
      () => false,
    );
    if (!local) missing.set(ref.sha256, { sha256: ref.sha256, bytes: ref.bytes, path: ref.path });
  }
  const done: FetchedArtifacts = { blobs: 0, bytes: 0, requests: 0 };
  if (missing.size === 0) return done;

  const taskQueue = opts.taskQueue ?? (await opts.client.workflow.getHandle(opts.runId).describe()).taskQueue;
  const pollers = await workflowPollers(opts.client, taskQueue);
  if (pollers.length === 0) {
    throw new Error(
      `${missing.size} file(s) of run ${opts.runId} are not in this machine's artifact store (${store.root}), and no worker polls task queue "${taskQueue}" to send them. Start the worker that ran the run (it keeps the files in its MAESTRO_HOME) and try again, or use the MAESTRO_HOME that worker uses.`,
    );
  }
  opts.log?.(
    `Fetching ${missing.size} file(s) of run ${opts.runId} from the worker's artifact store through Temporal (task queue ${taskQueue})...`,
  );
  const parts = new Map<string, { offset: number; bytes: Buffer }[]>();
  const suffix = randomBytes(3).toString('hex');
  for (const [i, chunks] of planChunkBatches([...missing.values()]).entries()) {
    let result;
    try {
      result = await opts.client.workflow.execute<typeof exportArtifactsWorkflow>('exportArtifactsWorkflow', {
        taskQueue,
        workflowId: `${opts.runId}/files-${suffix}-${i + 1}`,
        args: [{ runId: opts.runId, chunks }],
        workflowExecutionTimeout: EXPORT_TIMEOUT,
      });
    } catch (err) {
      const why =
        err instanceof WorkflowFailedError && err.cause instanceof TimeoutFailure
          ? `no worker answered within ${EXPORT_TIMEOUT} (has the worker that ran the run stopped?)`
          : err instanceof WorkflowFailedError
            ? describeFailure(err)
            : (err as Error).message;
      throw new Error(
        `Could not fetch the files of run ${opts.runId} from the worker on task queue "${taskQueue}": ${why}. Run \`maestro result ${opts.runId}\` where the worker's MAESTRO_HOME is, or give the client the same MAESTRO_HOME.`,
      );
    }
    done.requests++;
    for (const c of result) {
      const list = parts.get(c.sha256) ?? [];
      list.push({ offset: c.offset, bytes: Buffer.from(c.base64, 'base64') });
      parts.set(c.sha256, list);
    }
  }
  for (const blob of missing.values()) {
    const pieces = (parts.get(blob.sha256) ?? []).sort((a, b) => a.offset - b.offset);
    const content = Buffer.concat(pieces.map((p) => p.bytes));
    const ref = await store.put({ path: blob.path, content });
    if (ref.sha256 !== blob.sha256) {
      throw new Error(
        `The worker sent ${blob.path} with hash ${ref.sha256.slice(0, 12)} instead of ${blob.sha256.slice(0, 12)}: not stored. Try again; if it persists, the worker's artifact store is damaged.`,
      );
    }
    done.blobs++;
    done.bytes += content.length;
  }
  return done;
}
