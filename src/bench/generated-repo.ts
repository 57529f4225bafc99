/**
 * Git repositories of any size, made in one `git fast-import` (seconds for 10,000 files): Go,
 * Python and TypeScript sources with top-level declarations, tests, docs and a README, spread
 * over folders the way real projects are. The repo-map bench and tests measure the map on them.
 */
import { mkdir } from 'node:fs/promises';
import { git } from '../activities/repo/git';

/** Folder layout of file `i` of `n`: about 20 files per folder, 8 folders per parent. */
function pathOf(i: number, n: number): string {
  const perFolder = 20;
  const folder = Math.floor(i / perFolder);
  const parts: string[] = [];
  for (let f = folder, level = 0; level < 4 && (level === 0 || f > 0); level++, f = Math.floor(f / 8))
    parts.unshift(`${['pkg', 'mod', 'lib', 'area'][level]}${f % 8}`);
  const kinds = ['go', 'py', 'ts', 'md'];
  const ext = kinds[i % (n < 50 ? 3 : 4)]!;
  return `${['internal', 'src', 'tools'][folder % 3]}/${parts.join('/')}/file${i}${ext === 'go' && i % 5 === 0 ? '_test' : ''}.${ext}`;
}

function contentOf(p: string, i: number): string {
  if (p.endsWith('.go'))
    return `package p${i % 7}\n\n// Handler${i} serves part ${i}.\nfunc Handler${i}(x int) int {\n\treturn x + ${i}\n}\n\ntype Item${i} struct{ ID int }\n`;
  if (p.endsWith('.py'))
    return `"""Part ${i}."""\n\n\ndef handle_${i}(x):\n    return x + ${i}\n\n\nclass Item${i}:\n    pass\n`;
  if (p.endsWith('.ts'))
    return `/** Part ${i}. */\nexport function handle${i}(x: number): number {\n  return x + ${i};\n}\n`;
  return `# Notes ${i}\n\nSome words about part ${i}.\n`;
}

/**
 * Makes a repository of `files` files (go.mod and README.md among them) at `dir` and returns its head
 * commit. The commit is the same for the same `files` (fixed dates and identity).
 */
export async function generateRepo(dir: string, files: number): Promise<string> {
  await mkdir(dir, { recursive: true });
  await git(['init', '--quiet', '--initial-branch=main', dir]);
  const parts: string[] = [];
  const add = (p: string, text: string) => {
    parts.push(`M 100644 inline ${p}\ndata ${Buffer.byteLength(text)}\n${text}\n`);
  };
  add('go.mod', 'module example.com/generated\n\ngo 1.21\n');
  add('README.md', `# generated\n\nA generated project of ${files} files, for measuring the repository map.\n`);
  for (let i = 0; i < files - 2; i++) {
    const p = pathOf(i, files);
    add(p, contentOf(p, i));
  }
  const stream = `commit refs/heads/main\ncommitter Maestro <maestro@localhost> 1700000000 +0000\ndata 9\ngenerated\n${parts.join('')}\n`;
  await git(['fast-import', '--quiet'], { cwd: dir, input: stream });
  await git(['reset', '--quiet', '--hard', 'main'], { cwd: dir });
  return (await git(['rev-parse', 'HEAD'], { cwd: dir })).stdout.toString('utf8').trim();
}
