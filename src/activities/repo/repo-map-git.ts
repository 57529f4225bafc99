/**
 * Reading a commit's tree and some of its files straight from the object store (`git ls-tree`,
 * `git cat-file --batch`): no checkout, no index, no filters, so building the repository map
 * never writes to the person's repository nor runs anything it configures.
 */
import type { GitOptions, GitOutput } from './git';

/** Runs one git command on the repository the map is made of. */
export type GitRunner = (args: readonly string[], opts?: GitOptions) => Promise<GitOutput>;

/** One entry of a commit's tree: a file, a symbolic link (its target's length as size) or a submodule. */
export interface TreeEntry {
  path: string;
  mode: string;
  oid: string;
  /** Bytes (blobs); 0 for submodules. */
  bytes: number;
  kind: 'file' | 'symlink' | 'submodule';
}

/** Every entry of `commit`'s tree, recursively, as git stores the paths (any bytes but NUL). */
export async function listTree(run: GitRunner, commit: string): Promise<TreeEntry[]> {
  const out = await run(['ls-tree', '-r', '-l', '-z', '--full-tree', commit], { maxBuffer: 512 * 1024 * 1024 });
  const entries: TreeEntry[] = [];
  for (const rec of out.stdout.toString('utf8').split('\0')) {
    const tab = rec.indexOf('\t');
    if (tab < 0) continue;
    const [mode = '', type = '', oid = '', size = ''] = rec.slice(0, tab).split(/ +/);
    const kind = type === 'commit' ? 'submodule' : mode === '120000' ? 'symlink' : 'file';
    entries.push({ path: rec.slice(tab + 1), mode, oid, bytes: Number(size) || 0, kind });
  }
  return entries;
}

/**
 * The contents of the given blobs (by object id), read through one `git cat-file --batch`;
 * callers keep the list bounded (the whole answer is held in memory).
 */
export async function readBlobs(run: GitRunner, oids: readonly string[]): Promise<Map<string, Buffer>> {
  const found = new Map<string, Buffer>();
  const unique = [...new Set(oids)];
  if (unique.length === 0) return found;
  const out = (await run(['cat-file', '--batch'], { input: unique.join('\n') + '\n', maxBuffer: 256 * 1024 * 1024 }))
    .stdout;
  let at = 0;
  while (at < out.length) {
    const nl = out.indexOf(0x0a, at);
    if (nl < 0) break;
    const [oid = '', type = '', size = ''] = out.subarray(at, nl).toString('utf8').split(' ');
    at = nl + 1;
    if (type === 'missing' || size === '') continue;
    const n = Number(size);
    if (type === 'blob') found.set(oid, out.subarray(at, at + n));
    at += n + 1;
  }
  return found;
}
