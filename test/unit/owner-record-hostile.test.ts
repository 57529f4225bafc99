/**
 * A co-tenant of the temp folder against the owner record's UI URL (server-owner.ts): a symlink
 * planted where the record is written aside must not redirect the write into another file, and a
 * hostile URL in a record is never printed.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  claimServer,
  describeOwner,
  ownerFile,
  readOwner,
  recordedUiUrl,
  recordUiUrl,
} from '../../src/dev/server-owner';

describe('owner record written aside (hostile co-tenant)', () => {
  const port = 40000 + Math.floor(Math.random() * 20000);
  let dir: string;
  let release: (() => void) | undefined;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'owner-hostile-'));
    const claim = claimServer(port, 'run', dir);
    if (!('release' in claim)) throw new Error('port owned already');
    release = claim.release;
  });
  afterEach(() => {
    release?.();
    rmSync(`${ownerFile(port)}.${process.pid}.tmp`, { force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it('does not write through a symlink planted at the aside file', () => {
    const victim = path.join(dir, 'victim.txt');
    writeFileSync(victim, 'precious\n');
    symlinkSync(victim, `${ownerFile(port)}.${process.pid}.tmp`);
    try {
      recordUiUrl(port, 'http://localhost:8233');
    } catch {
      // refusing is fine; writing into the victim is not
    }
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
  });

  it('ignores URLs that are not plain local http (ESC, javascript:, another host)', () => {
    for (const url of [
      'http://localhost:8233\u001b]0;x\u0007',
      'javascript:alert(1)',
      'http://evil.example:80',
      'http://localhost:99999999',
    ]) {
      writeFileSync(
        ownerFile(port),
        JSON.stringify({
          pid: process.pid,
          command: 'run',
          home: dir,
          startedAt: new Date().toISOString(),
          uiUrl: url,
        }),
      );
      expect(recordedUiUrl(port)).toBeUndefined();
    }
    expect(existsSync(ownerFile(port))).toBe(true);
  });
});

describe('a hostile owner record of a live process (co-tenant)', () => {
  const port = 40000 + Math.floor(Math.random() * 20000);
  const write = (record: unknown) => writeFileSync(ownerFile(port), JSON.stringify(record));
  afterEach(() => rmSync(ownerFile(port), { force: true }));

  it('a record whose fields are not text is no owner (no TypeError later)', () => {
    for (const bad of [
      { pid: 1, command: 'run', home: '/h', startedAt: 5 },
      { pid: 1, command: ['run'], home: '/h', startedAt: '2026-12-07T09:00:00.000Z' },
      { pid: 1, command: 'run', home: { x: 1 }, startedAt: '2026-12-07T09:00:00.000Z' },
      { pid: -5, command: 'run', home: '/h', startedAt: '2026-12-07T09:00:00.000Z' },
      [1, 2, 3],
      null,
    ]) {
      write(bad);
      const owner = readOwner(port);
      expect(owner).toBeUndefined();
    }
  });

  it('its text is described with control characters escaped', () => {
    write({
      pid: 1,
      command: '\u001b]0;pwned\u0007run',
      home: '\u001b[2J/h',
      startedAt: '2026-12-07T09:00:00.000Z\u001b[31m',
    });
    const owner = readOwner(port);
    expect(owner).toBeDefined();
    const text = describeOwner(owner!);
    expect(text).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(text).toContain('pid 1');
  });

  it('a huge record is not read into memory', () => {
    writeFileSync(
      ownerFile(port),
      `{"pid":1,"command":"run","home":"${'x'.repeat(2_000_000)}","startedAt":"2026-12-07T09:00:00.000Z"}`,
    );
    expect(readOwner(port)).toBeUndefined();
  });
});
