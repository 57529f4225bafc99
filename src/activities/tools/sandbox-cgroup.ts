/**
 * Per-sandbox cgroups: each `run_command` gets a cgroup of its own whose `pids.max` bounds its
 * processes and threads and whose memory limit bounds all its processes together (RLIMIT_NPROC and
 * RLIMIT_DATA only bound one user or one process). Works where the worker can create cgroups: a
 * cgroup v1 `pids`/`memory` hierarchy, or cgroup v2 with both controllers enabled for children.
 * Where neither is writable the sandbox falls back to rlimits and says so.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ownerAlive, ownerOf, ownerTag } from './process-owner';

/** Prefix of every sandbox cgroup's name (followed by the owner tag). */
const PREFIX = 'maestro-sbx-';

/** Where this process's sandbox cgroups go, per kind of controller. */
interface CgroupLayout {
  kind: 'v1' | 'v2';
  /** Parent folders: v1 one per controller (pids, memory); v2 one for both. */
  pids: string;
  memory: string;
}

/** A sandbox's own cgroup(s), created before the command and removed after it. */
export interface SandboxCgroup {
  /** `cgroup.procs` files the sandbox's first process writes its pid into. */
  procs: string[];
  /** Which limits the command hit (read after it ended). */
  limitsHit(): { processes: boolean; memory: boolean };
  /** Kills what is left in it and removes it. */
  remove(): void;
}

function mountsOf(fstype: 'cgroup' | 'cgroup2'): { mount: string; options: string[] }[] {
  const lines = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  const out: { mount: string; options: string[] }[] = [];
  for (const line of lines) {
    const [left, right] = line.split(' - ');
    const f = right?.split(' ');
    if (!left || !f || f[0] !== fstype) continue;
    out.push({ mount: (left.split(' ')[4] ?? '').replace(/\\040/g, ' '), options: (f[2] ?? '').split(',') });
  }
  return out;
}

/** This process's cgroup path in the v1 hierarchy of `controller` ('' for v2). */
function ownPath(controller: string): string | undefined {
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n')) {
    const [, controllers, p] = line.split(':');
    if (controllers?.split(',').includes(controller) && p !== undefined) return p;
  }
  return undefined;
}

function probe(parent: string): boolean {
  const dir = path.join(parent, `${PREFIX}probe-${process.pid}`);
  try {
    mkdirSync(dir);
    rmdirSync(dir);
    return true;
  } catch {
    return false;
  }
}

function detectLayout(): CgroupLayout | undefined {
  try {
    const v1 = (c: string) => {
      const m = mountsOf('cgroup').find((x) => x.options.includes(c));
      const own = ownPath(c);
      return m && own !== undefined ? path.join(m.mount, own) : undefined;
    };
    const pids = v1('pids');
    const memory = v1('memory');
    if (pids && memory && probe(pids) && probe(memory)) return { kind: 'v1', pids, memory };
    const v2 = mountsOf('cgroup2')[0];
    const own = ownPath('');
    if (v2 && own !== undefined) {
      const parent = path.join(v2.mount, own);
      const enabled = readFileSync(path.join(parent, 'cgroup.subtree_control'), 'utf8').split(/\s+/);
      if (enabled.includes('pids') && enabled.includes('memory') && probe(parent))
        return { kind: 'v2', pids: parent, memory: parent };
    }
  } catch {
    // no cgroups readable here
  }
  return undefined;
}

let layout: CgroupLayout | null | undefined;

/** The cgroup layout sandboxes use on this machine, or undefined (probed once per process). */
export function cgroupLayout(): CgroupLayout | undefined {
  if (layout === undefined) layout = detectLayout() ?? null;
  return layout ?? undefined;
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function counter(text: string, key: string): number {
  return Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
}

function killAndRemove(dir: string): void {
  for (let i = 0; i < 20 && existsSync(dir); i++) {
    for (const pid of read(path.join(dir, 'cgroup.procs')).split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone already
      }
    }
    try {
      rmdirSync(dir);
    } catch {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25);
    }
  }
}

let serial = 0;

/**
 * A fresh cgroup for one sandbox with `pids.max = maxProcesses` and memory bounded to `memoryMb`
 * (swap included), or undefined where cgroups are not writable.
 */
export function createSandboxCgroup(maxProcesses: number, memoryMb: number): SandboxCgroup | undefined {
  const l = cgroupLayout();
  if (!l) return undefined;
  const name = `${PREFIX}${ownerTag()}-${++serial}`;
  const pids = path.join(l.pids, name);
  const memory = path.join(l.memory, name);
  const bytes = String(memoryMb * 1024 * 1024);
  const dirs = [...new Set([pids, memory])];
  try {
    for (const d of dirs) mkdirSync(d);
    writeFileSync(path.join(pids, 'pids.max'), String(maxProcesses));
    if (l.kind === 'v1') {
      writeFileSync(path.join(memory, 'memory.limit_in_bytes'), bytes);
      if (existsSync(path.join(memory, 'memory.memsw.limit_in_bytes')))
        writeFileSync(path.join(memory, 'memory.memsw.limit_in_bytes'), bytes);
    } else {
      writeFileSync(path.join(memory, 'memory.max'), bytes);
      if (existsSync(path.join(memory, 'memory.swap.max'))) writeFileSync(path.join(memory, 'memory.swap.max'), '0');
    }
  } catch (err) {
    for (const d of dirs) killAndRemove(d);
    throw new Error(`could not set up the sandbox's cgroup ${name}: ${(err as Error).message}`);
  }
  return {
    procs: dirs.map((d) => path.join(d, 'cgroup.procs')),
    limitsHit: () => {
      const memEvents =
        l.kind === 'v1' ? read(path.join(memory, 'memory.oom_control')) : read(path.join(memory, 'memory.events'));
      return {
        processes: counter(read(path.join(pids, 'pids.events')), 'max') > 0,
        memory: counter(memEvents, 'oom_kill') > 0,
      };
    },
    remove: () => {
      for (const d of dirs) killAndRemove(d);
    },
  };
}

/** Removes sandbox cgroups left by dead workers (their processes are killed first); returns how many. */
export function cleanStaleCgroups(): number {
  const l = cgroupLayout();
  if (!l) return 0;
  let removed = 0;
  for (const parent of new Set([l.pids, l.memory])) {
    let names: string[] = [];
    try {
      names = readdirSync(parent);
    } catch {
      continue;
    }
    for (const n of names) {
      const owner = ownerOf(n, PREFIX);
      if (owner === undefined || ownerAlive(owner)) continue;
      killAndRemove(path.join(parent, n));
      removed++;
    }
  }
  return removed;
}
