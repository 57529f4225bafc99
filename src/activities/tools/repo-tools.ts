/**
 * read_file and list_files of a repo ticket (issue 20): straight from the start tree in git with
 * the ticket's own files over it, no checkout. Commands and writes are in builtin-tools.ts.
 */
import type { ArtifactRef } from '../../shared/types';
import type { ArtifactStore } from '../artifacts/store';
import { listTree, readTreePath, repoPath, type RepoTree } from '../repo/tree';
import { bounded, invalidCall, type ToolOutcome } from './tool-outcome';

/** Opens the ticket's start tree on first use. */
export interface RepoOpener {
  open: () => Promise<RepoTree>;
}

/** read_file of a repo ticket: own files, else the start tree (links and folders are told, not followed). */
export async function repoReadTool(
  store: ArtifactStore,
  repo: RepoOpener,
  own: readonly ArtifactRef[],
  a: Record<string, unknown>,
): Promise<ToolOutcome> {
  const rel = repoPath(a.path);
  const got = await readTreePath(store, await repo.open(), own, rel);
  if (got.kind === 'missing')
    return invalidCall(`no file "${rel}" in the repository; call list_files to see what is there`);
  if (got.kind === 'folder') return invalidCall(`"${rel}" is a folder; call list_files with it as the path`);
  if (got.kind === 'link')
    return invalidCall(`"${rel}" is a symbolic link (to "${got.target.slice(0, 200)}"); read the file it points to`);
  return { content: bounded(got.content.toString('utf8')), isError: false, bytes: got.bytes, written: [] };
}

/** Most rows list_files shows for a repository (a 10,000-file tree is listed by folder). */
const MAX_LISTED = 1000;

/** list_files of a repo ticket: the start tree merged with the own files (marked "yours"), bounded. */
export async function repoListTool(
  repo: RepoOpener,
  own: readonly ArtifactRef[],
  a: Record<string, unknown>,
): Promise<ToolOutcome> {
  const folder = typeof a.path === 'string' ? a.path : '';
  const rows = await listTree(await repo.open(), own, folder);
  const lines = rows
    .slice(0, MAX_LISTED)
    .map((r) => `${r.path} (${r.link ? 'symbolic link' : `${r.bytes} bytes`}${r.own ? ', yours' : ''})`);
  if (rows.length > MAX_LISTED) lines.push(`[... ${rows.length - MAX_LISTED} more files: list a folder to see them]`);
  const text = lines.length > 0 ? lines.join('\n') : `(no files${folder ? ` under ${folder}/` : ''})`;
  return { content: bounded(text), isError: false, bytes: Buffer.byteLength(text), written: [] };
}
