/**
 * The `repo-map` section: tokens of the repository map the Boss plans from (issue 20) for
 * generated repositories of 100, 1,000 and 10,000 files. The map is capped (DEFAULT_MAP_TOKENS)
 * and summarises folders, so its tokens must grow far slower than the file count.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { git } from '../activities/repo/git';
import { buildRepoMap, DEFAULT_MAP_TOKENS } from '../activities/repo/repo-map';
import { generateRepo } from './generated-repo';
import type { BenchSection } from './types';

const SIZES = [100, 1000, 10_000];

interface MapRow {
  files: number;
  tokens: number;
  lines: number;
  summaryLines: number;
  symbolLines: number;
  buildMs: number;
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/** The repo-map section. */
export const repoMapSection: BenchSection = {
  name: 'repo-map',
  title: 'repository map tokens for repositories of 100, 1,000 and 10,000 files (capped, sub-linear)',
  async run(ctx) {
    const tmp = await mkdtemp(path.join(os.tmpdir(), 'maestro-bench-map-'));
    const rows: MapRow[] = [];
    try {
      for (const files of SIZES) {
        ctx.log(`repo-map: ${files} files`);
        const dir = path.join(tmp, `repo-${files}`);
        const head = await generateRepo(dir, files);
        const started = performance.now();
        const map = await buildRepoMap((a, o) => git(a, { cwd: dir, ...o }), head, `generated-${files}`);
        const buildMs = Math.round(performance.now() - started);
        const lines = map.text.split('\n');
        const symbolsAt = lines.indexOf('## Symbols');
        rows.push({
          files,
          tokens: map.tokens,
          lines: lines.length - 1,
          summaryLines: lines.filter((l) => /^- .+\/ \(\d+ files, /.test(l)).length,
          symbolLines: symbolsAt < 0 ? 0 : lines.slice(symbolsAt + 1).filter((l) => l.startsWith('- ')).length,
          buildMs,
        });
      }
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    const first = rows[0]!;
    const last = rows[rows.length - 1]!;
    const growth = last.tokens / first.tokens;
    return {
      tables: [
        {
          title: `repo-map: Boss map tokens by repository size (cap ${DEFAULT_MAP_TOKENS})`,
          columns: ['files', 'map tokens', 'lines', 'summarised folders', 'symbol lines', 'build ms'],
          rows: rows.map((r) => [r.files, r.tokens, r.lines, r.summaryLines, r.symbolLines, r.buildMs]),
          notes: [
            `${first.files} -> ${last.files} files (x${last.files / first.files}): map tokens x${round(growth)} (sub-linear when far below the file ratio).`,
            'Generated repositories (src/bench/generated-repo.ts): Go, Python, TypeScript and Markdown files, ~20 per folder.',
            'build ms = git ls-tree + cat-file of the shown files + symbols + fitting to the cap (tokenizer loaded once).',
          ],
        },
      ],
      summary: { growth: round(growth), rows },
    };
  },
};
