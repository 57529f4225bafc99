/**
 * A CLI installed under a MAESTRO_HOME whose agent-clis folder is a symbolic link (a shared install,
 * as on a machine with several homes): the sandbox hides MAESTRO_HOME, so the program must be
 * launched by a path outside every hidden folder, and its install must stay visible.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findCliProgram } from '../../src/activities/executor/cli-specs';
import { hideAllBut, installRoot } from '../../src/activities/executor/hide';

let dir: string;
beforeAll(() => {
  dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), 'maestro-install-path-')));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const under = (p: string, folder: string) => p === folder || p.startsWith(`${folder}${path.sep}`);

test('a CLI under a symlinked agent-clis is launched by its real path, outside the hidden home', () => {
  const shared = path.join(dir, 'shared-clis');
  mkdirSync(path.join(shared, 'node_modules', 'tool', 'bin'), { recursive: true });
  mkdirSync(path.join(shared, 'node_modules', '.bin'), { recursive: true });
  writeFileSync(path.join(shared, 'node_modules', 'tool', 'bin', 'tool.js'), '#!/usr/bin/env node\n', { mode: 0o755 });
  symlinkSync('../tool/bin/tool.js', path.join(shared, 'node_modules', '.bin', 'tool'));
  const home = path.join(dir, 'home');
  mkdirSync(home);
  symlinkSync(shared, path.join(home, 'agent-clis'));

  const program = findCliProgram('tool', home, '');
  expect(program).toBe(path.join(shared, 'node_modules', '.bin', 'tool'));
  const hidden = hideAllBut([home], installRoot(program!));
  expect(hidden.some((h) => under(program!, h))).toBe(false);
  expect(hidden).toContain(home);
});

test('a CLI that is not installed is not found', () => {
  expect(findCliProgram('no-such-cli', path.join(dir, 'nowhere'), '')).toBeUndefined();
});
