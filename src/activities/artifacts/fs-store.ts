/**
 * The default artifact store: content-addressed files under `<home>/artifacts`. Writes are
 * atomic (temp file + rename) so a crash never leaves a half-written blob under a valid hash.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../../shared/errors';
import type { ArtifactRef } from '../../shared/types';
import type { ArtifactStore } from './store';

/** Filesystem implementation of `ArtifactStore`. */
export class FsArtifactStore implements ArtifactStore {
  constructor(readonly root: string) {}

  async put(file: { path: string; content: string | Buffer }): Promise<ArtifactRef> {
    const bytes = typeof file.content === 'string' ? Buffer.from(file.content, 'utf8') : file.content;
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const target = this.blobPath(sha256);
    const exists = await stat(target).then(
      (s) => s.size === bytes.length,
      () => false,
    );
    if (!exists) {
      await mkdir(path.dirname(target), { recursive: true });
      const tmp = `${target}.${randomUUID()}.tmp`;
      await writeFile(tmp, bytes);
      await rename(tmp, target);
    }
    return { path: file.path, sha256, bytes: bytes.length, uri: pathToFileURL(target).href };
  }

  async read(ref: ArtifactRef): Promise<Buffer> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.blobPath(ref.sha256));
    } catch {
      throw ApplicationFailure.create({
        type: FailureType.ArtifactMissing,
        message: `artifact ${ref.path} (${ref.sha256.slice(0, 12)}) is not in the artifact store at ${this.root}: the workers of a run must share one store (the same MAESTRO_HOME or volume)`,
        nonRetryable: true,
      });
    }
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== ref.sha256) {
      throw ApplicationFailure.create({
        type: FailureType.ArtifactMissing,
        message: `artifact ${ref.path} is corrupt in ${this.root} (hash ${actual.slice(0, 12)} != ${ref.sha256.slice(0, 12)})`,
        nonRetryable: true,
      });
    }
    return bytes;
  }

  private blobPath(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return path.join(this.root, 'blobs', sha256.slice(0, 2), sha256);
  }
}
