/**
 * Benchmark of the repo runs' merge queue (issue 20): `mergeTicket` on real git for N tickets that
 * each changed one file of their own, all started on the base, merged one after the other onto the
 * moving run branch (so every merge after the first is a 3-way `merge-tree`), as the queue runs
 * them. Reports the time per ticket and how it grows with the branch.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FsArtifactStore } from '../activities/artifacts/fs-store';
import { openSnapshot, storeSeries } from '../activities/repo/cache';
import { git, gitText } from '../activities/repo/git';
import { mergeTicket } from '../activities/repo/merge';
import type { RepoSnapshot } from '../shared/repo';
import { median, percentile, round } from './stats';
import type { BenchContext, BenchSection, SectionReport } from './types';

/** The merge-queue section. */
export const mergeQueueSection: BenchSection = {
  name: 'merge-queue',
  title: 'repo runs: mergeTicket time per ticket, tickets on disjoint files merged in turn onto the run branch',
  run,
};

/** A repository of `files` small files, packed as a run's base snapshot. */
async function baseRepo(dir: string, files: number, store: FsArtifactStore): Promise<RepoSnapshot> {
  const work = path.join(dir, 'repo');
  await git(['init', '-q', '-b', 'main', work]);
  for (let i = 0; i < files; i++) writeFileSync(path.join(work, `file-${i}.txt`), `line of file ${i}\n`);
  await git(['add', '-A'], { cwd: work });
  await git(['commit', '-q', '-m', 'base'], { cwd: work });
  const head = await gitText(['rev-parse', 'HEAD'], { cwd: work });
  const bundle = path.join(dir, 'base.bundle');
  await git(['bundle', 'create', '-q', bundle, 'HEAD', 'main'], { cwd: work });
  return { bundle: await store.put({ path: 'base.bundle', content: await readFile(bundle) }), base: head, head };
}

async function run(ctx: BenchContext): Promise<SectionReport> {
  const sizes = ctx.quick ? [100] : [100, 1000];
  const rows: (string | number)[][] = [];
  const summary: Record<string, unknown> = {};
  for (const n of sizes) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-bench-merge-'));
    try {
      const store = new FsArtifactStore(path.join(dir, 'store'));
      const copies = path.join(dir, 'copies');
      const base = await baseRepo(dir, n, store);
      const deps = {
        store,
        open: (s: RepoSnapshot) => openSnapshot(store, s, copies),
        storeSeries: (g: string, b: string, h: string, br: string) => storeSeries(store, g, b, h, br),
      };
      await deps.open(base); // the copy is made once per worker: not part of a merge's time
      let onto = base;
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        if (i % 100 === 0) ctx.log(`merge-queue: ${n} tickets, ${i} merged`);
        const file = await store.put({ path: `file-${i}.txt`, content: `line of file ${i}\nchanged by T${i + 1}\n` });
        const t0 = performance.now();
        const out = await mergeTicket(deps, {
          runId: 'bench',
          branch: 'maestro/bench',
          ticket: { id: `T${i + 1}`, role: 'coder', title: `Change file ${i}`, summary: 'One line added.' },
          start: base,
          onto,
          files: [file],
          at: '2026-01-01T00:00:00Z',
        });
        times.push(performance.now() - t0);
        if (out.status !== 'merged') throw new Error(`ticket T${i + 1} did not merge: ${out.status}`);
        onto = out.snapshot;
      }
      const total = times.reduce((a, b) => a + b, 0);
      const firstTenth = median(times.slice(0, Math.max(1, n / 10)));
      const lastTenth = median(times.slice(-Math.max(1, n / 10)));
      rows.push([
        n,
        round(total / n),
        round(median(times)),
        round(percentile(times, 95)),
        round(firstTenth),
        round(lastTenth),
        round(total / 1000),
      ]);
      summary[`tickets${n}`] = {
        msPerTicket: round(total / n),
        p95Ms: round(percentile(times, 95)),
        firstTenthMs: round(firstTenth),
        lastTenthMs: round(lastTenth),
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return {
    tables: [
      {
        title: 'merge-queue: mergeTicket per ticket (real git, disjoint files, each ticket started on the base)',
        columns: ['tickets', 'mean ms', 'median ms', 'p95 ms', 'first 10% ms', 'last 10% ms', 'total s'],
        rows,
        notes: [
          "each merge: tree of start + the ticket's file, commit, 3-way merge-tree onto the branch, commit, series bundle",
          '(base..head, grows with the branch), format-patch and diffstat. last 10% vs first 10% shows the growth.',
        ],
      },
    ],
    summary,
  };
}
