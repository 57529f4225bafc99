/**
 * The toolchains a repo sandbox is given, detected from this worker's own environment: only
 * folders the sandbox would otherwise hide are bound, never a hidden folder (the Maestro home, the
 * artifact store) nor one containing it, and the environment keeps every tool offline.
 */
import { spawnSync } from 'node:child_process';
import { detectToolchains } from '../../src/activities/tools/sandbox-toolchains';

const goModCache = spawnSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).stdout?.trim() ?? '';

test('binds only covered folders, read-only, and keeps tools offline', () => {
  const t = detectToolchains();
  for (const b of t.binds) expect(b).toMatch(/^\/(root|home|tmp|var\/tmp|run|dev\/shm)\//);
  expect(t.env).toEqual(
    expect.arrayContaining(['GOPROXY=off', 'GOSUMDB=off', 'PIP_NO_INDEX=1', 'CARGO_NET_OFFLINE=true']),
  );
  expect(t.env.some((e) => e.startsWith('GOCACHE=/tmp/'))).toBe(true);
  if (goModCache.startsWith('/root/')) expect(t.binds).toContain(goModCache);
});

test('never binds a hidden folder, one inside it, or one that contains it', () => {
  if (!goModCache.startsWith('/root/')) return;
  const parent = goModCache.split('/').slice(0, 3).join('/'); // e.g. /root/go
  expect(detectToolchains([parent]).binds).not.toContain(goModCache);
  expect(detectToolchains([`${goModCache}/cache`]).binds).not.toContain(goModCache);
  expect(detectToolchains(['/somewhere/else']).binds).toContain(goModCache);
});
