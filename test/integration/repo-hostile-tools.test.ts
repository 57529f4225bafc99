/**
 * Hostile review of issue 20: a repo ticket's command that replaces a tracked folder with a file
 * must not make that file one of the ticket's own files (the merge would refuse it, and every later
 * command of the ticket would fail to lay it over the tree): it is "not kept", with the reason.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FsArtifactStore } from '../../src/activities/artifacts/fs-store';
import { gitText } from '../../src/activities/repo/git';
import type { RepoTree } from '../../src/activities/repo/tree';
import { runBuiltInTool, type ToolContext } from '../../src/activities/tools/builtin-tools';
import { isolationAvailable, type Isolation } from '../../src/activities/tools/sandbox';
import type { ArtifactRef } from '../../src/shared/types';
import { openTree, snapshotOf } from '../helpers/repo-snapshot';

const ISOLATIONS = (['unshare', 'bubblewrap'] as const).filter((k) => isolationAvailable(k));
let dir: string;
let store: FsArtifactStore;
let tree: RepoTree;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-hostile-tools-'));
  store = new FsArtifactStore(path.join(dir, 'artifacts'));
  const src = path.join(dir, 'src-repo');
  mkdirSync(path.join(src, 'lib'), { recursive: true });
  writeFileSync(path.join(src, 'lib', 'a.js'), 'a\n');
  writeFileSync(path.join(src, 'lib', 'b.js'), 'b\n');
  writeFileSync(path.join(src, 'main.js'), 'm\n');
  await gitText(['init', '-q', '-b', 'main'], { cwd: src });
  await gitText(['add', '-A'], { cwd: src });
  await gitText(['commit', '-q', '-m', 'start'], { cwd: src });
  tree = await openTree(store, await snapshotOf(store, src), path.join(dir, 'repos'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ctx(own: ArtifactRef[], isolation: Isolation): ToolContext {
  return {
    store,
    files: { dependencies: [], own },
    settings: { tools: ['run_command'] },
    hide: [dir],
    workspaceParent: path.join(dir, 'ws'),
    repo: { open: () => Promise.resolve(tree) },
    isolation,
  };
}

describe.each(ISOLATIONS)('run_command (%s)', (isolation) => {
  test('a folder or file replaced by a file or folder is not kept; the next command still runs', async () => {
    const script = await store.put({
      path: 'tools/evil.js',
      content: `const fs = require('fs');
fs.rmSync('lib', { recursive: true });
fs.writeFileSync('lib', 'not a folder any more\\n');
fs.rmSync('main.js');
fs.mkdirSync('main.js');
fs.writeFileSync('main.js/x', 'x\\n');
fs.writeFileSync('ok.js', 'ok\\n');
`,
    });
    const res = await runBuiltInTool(
      ctx([script], isolation),
      'run_command',
      JSON.stringify({ command: 'node tools/evil.js' }),
    );
    expect(res.content).toContain('exit code 0');
    expect(res.written.map((w) => w.path).sort()).toEqual(['ok.js']);
    expect(res.content).toMatch(/not kept: .*lib \(.*folder of the repository/);
    const next = await runBuiltInTool(
      ctx([script, ...res.written], isolation),
      'run_command',
      JSON.stringify({ command: 'node -e "console.log(1)"' }),
    );
    expect(next.content).toContain('exit code 0');
  }, 60_000);
});
