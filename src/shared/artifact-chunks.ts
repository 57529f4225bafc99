/**
 * Moving a run's files from the worker's artifact store to a client that cannot read it (another
 * machine, a container volume) through Temporal itself: the client asks for byte ranges of
 * blobs, a short workflow on the run's task queue has the worker read them, and the answer comes
 * back as the workflow's result. Every payload stays far below Temporal's 2 MB limit.
 */
import { z } from 'zod';

/** Largest byte range of one blob in one request. */
export const ARTIFACT_CHUNK_BYTES = 256 * 1024;

/** Largest sum of byte ranges one export workflow carries (base64 makes it ~700 KB on the wire). */
export const ARTIFACT_BATCH_BYTES = 512 * 1024;

/** Most byte ranges in one request (many small files share a request). */
export const ARTIFACT_BATCH_CHUNKS = 1000;

/** One byte range of a stored blob, named by its hash (the path is for messages only). */
export const ChunkRequest = z.object({
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in lower-case hex'),
  path: z.string().max(1000),
  offset: z.number().int().min(0),
  length: z.number().int().min(1).max(ARTIFACT_CHUNK_BYTES),
});
export type ChunkRequest = z.infer<typeof ChunkRequest>;

/** What one export workflow (and its activity) is asked for: bounded in total, for one run's files. */
export const ExportArtifactsInput = z.object({
  /** The run whose files these are: the worker serves only blobs that run recorded. */
  runId: z.string().min(1).max(1000),
  chunks: z
    .array(ChunkRequest)
    .min(1)
    .max(ARTIFACT_BATCH_CHUNKS)
    .refine((cs) => cs.reduce((n, c) => n + c.length, 0) <= ARTIFACT_BATCH_BYTES, {
      message: `the chunks of one request may total at most ${ARTIFACT_BATCH_BYTES} bytes`,
    }),
});
export type ExportArtifactsInput = z.infer<typeof ExportArtifactsInput>;

/** One byte range as it travels back (base64, because payloads are JSON). */
export interface ArtifactChunk {
  sha256: string;
  offset: number;
  base64: string;
}

/** The blobs to fetch: a hash, its size, and a path to name it by. */
export interface BlobToFetch {
  sha256: string;
  bytes: number;
  path: string;
}

/**
 * Splits blobs into requests of at most ARTIFACT_BATCH_BYTES (and ARTIFACT_BATCH_CHUNKS ranges), each blob into ranges of at most
 * ARTIFACT_CHUNK_BYTES, in order; empty blobs need no request (the client knows them already).
 */
export function planChunkBatches(blobs: readonly BlobToFetch[]): ChunkRequest[][] {
  const batches: ChunkRequest[][] = [];
  let current: ChunkRequest[] = [];
  let size = 0;
  for (const blob of blobs) {
    for (let offset = 0; offset < blob.bytes; offset += ARTIFACT_CHUNK_BYTES) {
      const length = Math.min(ARTIFACT_CHUNK_BYTES, blob.bytes - offset);
      if (size + length > ARTIFACT_BATCH_BYTES || current.length >= ARTIFACT_BATCH_CHUNKS) {
        batches.push(current);
        current = [];
        size = 0;
      }
      current.push({ sha256: blob.sha256, path: blob.path, offset, length });
      size += length;
    }
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
