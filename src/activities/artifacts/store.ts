/**
 * Claim-check storage for files the agents produce. Workflow histories carry only
 * `ArtifactRef`s (path + hash); the bytes live here. The interface lets a fleet on several
 * machines swap the filesystem store for an object store.
 */
import type { ArtifactRef } from '../../shared/types';

/** Where produced files are kept, addressed by content hash. */
export interface ArtifactStore {
  /** Stores content under its hash and returns a reference named by the worker's path. */
  put(file: { path: string; content: string | Buffer }): Promise<ArtifactRef>;
  /** Reads a referenced file; fails when it is missing or its hash does not match. */
  read(ref: ArtifactRef): Promise<Buffer>;
}
