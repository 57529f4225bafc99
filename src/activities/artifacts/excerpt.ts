/** Bounded views of stored files, for putting other agents' output into a prompt. */
import { EXCERPT_CHARS } from '../../shared/constants';
import type { ArtifactRef } from '../../shared/types';
import type { FileExcerpt } from '../roles/prompts';
import type { ArtifactStore } from './store';

/** Reads a file and cuts it to `maxChars` characters (the prompt says when it was cut). */
export async function excerptOf(
  store: ArtifactStore,
  ref: ArtifactRef,
  maxChars = EXCERPT_CHARS,
): Promise<FileExcerpt> {
  const text = (await store.read(ref)).toString('utf8');
  return { path: ref.path, bytes: ref.bytes, text: text.slice(0, maxChars), truncated: text.length > maxChars };
}
