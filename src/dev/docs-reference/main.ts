/**
 * `npm run docs:reference`: writes docs/reference/*.md from the code. With `--check` it writes
 * nothing and exits 1 when a checked-in page differs, naming the page and the command that fixes
 * it (CI runs this, so the reference cannot drift from the code).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { referencePages } from './pages';

/** The pages whose checked-in text under `root` differs from the generated one. */
export function stalePages(root: string, pages: Record<string, string> = referencePages()): string[] {
  return Object.entries(pages)
    .filter(([file, text]) => {
      const full = path.join(root, file);
      return !existsSync(full) || readFileSync(full, 'utf8') !== text;
    })
    .map(([file]) => file);
}

function main(argv: string[]): number {
  const root = path.resolve(__dirname, '..', '..', '..');
  const unknown = argv.filter((a) => a !== '--check');
  if (unknown.length > 0) {
    console.error(`docs:reference: unknown argument ${unknown.join(' ')}; usage: npm run docs:reference [-- --check]`);
    return 2;
  }
  const pages = referencePages();
  if (argv.includes('--check')) {
    const stale = stalePages(root, pages);
    if (stale.length === 0) {
      console.log(`docs:reference: ${Object.keys(pages).length} pages are current`);
      return 0;
    }
    console.error(
      `docs:reference: ${stale.join(', ')} ${stale.length === 1 ? 'is' : 'are'} out of date with the code.\n` +
        'Run `npm run docs:reference` and commit the result.',
    );
    return 1;
  }
  for (const [file, text] of Object.entries(pages)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
    console.log(`docs:reference: wrote ${file}`);
  }
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
