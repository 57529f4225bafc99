/**
 * Assembling produced files never writes outside the output folder (issue 8 item 7): symlinks
 * planted in an existing folder are refused instead of followed, and a manifest whose paths
 * cannot all be written (`a` and `a/b`) is refused before anything is written.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assembleOutput } from '../../src/activities/artifacts/assemble';
import { FsArtifactStore } from '../../src/activities/artifacts/fs-store';
import type { ManifestEntry } from '../../src/shared/types';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'maestro-assemble-'));

async function manifestOf(store: FsArtifactStore, files: Record<string, string>): Promise<ManifestEntry[]> {
  const out: ManifestEntry[] = [];
  for (const [p, content] of Object.entries(files))
    out.push({ ...(await store.put({ path: p, content })), ticketId: 'T1' });
  return out;
}

describe('assembleOutput', () => {
  it('refuses a symlinked folder inside the output folder and writes nothing through it', async () => {
    const store = new FsArtifactStore(tmp());
    const outside = tmp();
    const out = tmp();
    symlinkSync(outside, path.join(out, 'content'));
    const manifest = await manifestOf(store, { 'content/copy.md': 'hello' });
    await expect(assembleOutput(store, manifest, out)).rejects.toThrow(/content is a symbolic link/);
    expect(readdirSync(outside)).toEqual([]);
  });

  it('refuses a symlinked file instead of writing to its target', async () => {
    const store = new FsArtifactStore(tmp());
    const outside = tmp();
    const out = tmp();
    writeFileSync(path.join(outside, 'precious.txt'), 'keep me');
    symlinkSync(path.join(outside, 'precious.txt'), path.join(out, 'index.html'));
    const manifest = await manifestOf(store, { 'index.html': '<html></html>' });
    await expect(assembleOutput(store, manifest, out)).rejects.toThrow(/index.html is a symbolic link/);
    expect(readFileSync(path.join(outside, 'precious.txt'), 'utf8')).toBe('keep me');
  });

  it('refuses paths that clash or break the rule before writing anything', async () => {
    const store = new FsArtifactStore(tmp());
    const out = path.join(tmp(), 'out');
    const manifest = await manifestOf(store, { 'b.txt': 'first', a: 'file', 'a/b': 'nested' });
    await expect(assembleOutput(store, manifest, out)).rejects.toThrow(
      '"a" is a file and also a folder of another path',
    );
    expect(existsSync(out)).toBe(false);
    const hidden = await manifestOf(store, { '.git/hooks/pre-commit': 'x' });
    await expect(assembleOutput(store, hidden, out)).rejects.toThrow(/no segment starting with "\."/);
  });

  it('writes nested files into real folders', async () => {
    const store = new FsArtifactStore(tmp());
    const out = tmp();
    mkdirSync(path.join(out, 'css'));
    const manifest = await manifestOf(store, { 'css/site.css': 'body{}', 'index.html': '<html></html>' });
    const written = await assembleOutput(store, manifest, out);
    expect(written).toEqual([path.join(out, 'css', 'site.css'), path.join(out, 'index.html')]);
    expect(readFileSync(path.join(out, 'css', 'site.css'), 'utf8')).toBe('body{}');
  });
});
