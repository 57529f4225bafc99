/** Command-line options of `npm run bench` (`--quick`, `--only a,b`, `--help`). */

/** Parsed options. */
export interface BenchArgs {
  quick: boolean;
  /** Section names to run, in the runner's order; undefined runs all. */
  only?: string[];
  help: boolean;
}

/** Thrown for an unknown flag or section; the message says what is accepted. */
export class BenchArgsError extends Error {
  override name = 'BenchArgsError';
}

/** The usage text printed by `--help` and after a bad argument. */
export function usage(sections: readonly string[]): string {
  return [
    'Usage: npm run bench -- [--quick] [--only <section>[,<section>...]]',
    '  --quick          short run: fewer sizes, repeats and requests',
    `  --only <names>   run only these sections (repeatable or comma-separated): ${sections.join(', ')}`,
    '                   (epics, a 1,000-ticket run through sub-Bosses at L = 0 and 1 s, runs only when named)',
    'Tables and a final JSON summary line go to stdout, progress to stderr.',
  ].join('\n');
}

/** Parses argv (without node and the script); `sections` are the valid names for --only. */
export function parseBenchArgs(argv: readonly string[], sections: readonly string[]): BenchArgs {
  const out: BenchArgs = { quick: false, help: false };
  const only: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--quick') out.quick = true;
    else if (arg === '--help' || arg === '-h') out.help = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg === '--only' ? argv[++i] : arg.slice('--only='.length);
      if (!value) throw new BenchArgsError(`--only needs a section name: ${sections.join(', ')}`);
      only.push(
        ...value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      );
    } else throw new BenchArgsError(`unknown argument "${arg}"`);
  }
  const unknown = only.filter((s) => !sections.includes(s));
  if (unknown.length > 0) {
    throw new BenchArgsError(`unknown section(s) ${unknown.join(', ')}; the sections are: ${sections.join(', ')}`);
  }
  if (only.length > 0) out.only = sections.filter((s) => only.includes(s));
  return out;
}
