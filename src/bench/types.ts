/**
 * Shapes shared by the benchmark sections and the runner, so each section stays a small module
 * that only measures and the runner owns printing, filtering and the JSON summary.
 */
import type { Table } from './table';

/** What every section gets from the runner. */
export interface BenchContext {
  /** A short run (fewer sizes, repeats and requests) for a quick look or CI. */
  quick: boolean;
  /** The repository root (holds `.maestro/` and `dist/`). */
  repoRoot: string;
  /** Progress line to stderr (stdout is kept for the tables and the JSON summary). */
  log: (msg: string) => void;
}

/** What a section measured: tables for people, a plain object for the JSON summary line. */
export interface SectionReport {
  tables: Table[];
  summary: Record<string, unknown>;
}

/** One benchmark section, selectable by name with `--only`. */
export interface BenchSection {
  name: string;
  /** One line saying what it measures. */
  title: string;
  /** Runs only when named with `--only` (a long measurement the default run skips). */
  optIn?: boolean;
  run(ctx: BenchContext): Promise<SectionReport>;
}

/** A failure to set up a benchmark (missing CLI, server that did not start); the message says what to do. */
export class BenchSetupError extends Error {
  override name = 'BenchSetupError';
}
