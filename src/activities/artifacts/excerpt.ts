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
  return excerptOfText(ref.path, (await store.read(ref)).toString('utf8'), maxChars);
}

/** A file's text cut to `maxChars` characters, as the prompt builders show it. */
export function excerptOfText(path: string, text: string, maxChars = EXCERPT_CHARS): FileExcerpt {
  return {
    path,
    bytes: Buffer.byteLength(text, 'utf8'),
    text: text.slice(0, maxChars),
    truncated: text.length > maxChars,
  };
}
