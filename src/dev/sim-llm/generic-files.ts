/**
 * Files of the simulated workers for tickets that are not part of a web page: outlines,
 * drafts, usage notes, reports and small runnable programs, all built from the ticket's spec,
 * criteria and the files of its dependencies.
 */
import type { ShownFile, WorkerPromptInfo } from './prompt-parse';
import { clip, firstSentence } from './subject';

/** The spec without its `Deliver ...` and directive lines (what the work is about). */
export function specBody(spec: string): string {
  return spec
    .split('\n')
    .filter((l) => !/^(Deliver|Review directive:)/.test(l))
    .map((l) => l.replace(/\[sim:[^\]]*\]/g, '').trim())
    .filter(Boolean)
    .join('\n');
}

function topicOf(info: WorkerPromptInfo): string {
  const m = /^Topic: (.+)$/m.exec(info.spec);
  return m?.[1] ?? (firstSentence(specBody(info.spec), 120) || info.title);
}

function shown(info: WorkerPromptInfo): ShownFile[] {
  return info.dependencies.flatMap((d) => d.files);
}

/** Numbered items (`1. Name — text`) of the outlines among the shown files. */
function outlineParts(info: WorkerPromptInfo): string[] {
  const parts: string[] = [];
  for (const f of shown(info)) {
    for (const m of f.text.matchAll(/^\d+\. \*\*([^*]+)\*\*/gm)) if (m[1]) parts.push(m[1]);
  }
  return parts;
}

const DEFAULT_PARTS = ['Purpose', 'Background', 'How it works', 'Examples', 'Limits and next steps'];

/** A markdown document for a generic ticket; its shape follows the file's name. */
export function genericMarkdown(path: string, info: WorkerPromptInfo, role: string): string {
  const topic = topicOf(info);
  const lines = [`# ${info.title || path}`, '', `Topic: ${topic}`, ''];
  if (/outline/i.test(path)) {
    lines.push('## Parts', '');
    DEFAULT_PARTS.forEach((p, i) => lines.push(`${i + 1}. **${p}** — ${p.toLowerCase()} of: ${clip(topic, 100)}.`));
    lines.push('');
  } else if (/usage|readme/i.test(path)) {
    const code = info.spec.match(/`(src\/[^`]+\.(?:m?js|cjs))`/)?.[1];
    lines.push(
      '## How to run',
      '',
      '```',
      code ? `node ${code} path/to/file.txt` : 'see the files of this ticket',
      code ? `echo "some text" | node ${code}` : '',
      '```',
      '',
    );
    lines.push('Prints a JSON object with the line, word and character counts. `--help` prints the usage.', '');
  } else if (role === 'tester' || /report|review|test/i.test(path)) {
    lines.push('## Checks', '');
    const files = shown(info);
    for (const f of files)
      lines.push(`- \`${f.path}\`: ${f.text.trim().length > 0 ? 'PASS — present and non-empty' : 'FAIL — empty'}.`);
    if (files.length === 0) lines.push('- No input files were handed over, so nothing could be checked.');
    lines.push('');
  } else {
    const parts = outlineParts(info);
    const t = clip(topic.replace(/[.!?]$/, ''), 120);
    const says = [
      `What this is about and why it matters: ${t}.`,
      `The context a reader needs first, in plain words, before the details of "${t}".`,
      `Step by step, how "${t}" is done, with the decisions that matter most.`,
      `Concrete examples that show "${t}" in practice.`,
      `What is left open, the known limits and the next steps for "${t}".`,
    ];
    (parts.length > 0 ? parts : DEFAULT_PARTS).forEach((part, i) =>
      lines.push(`## ${part}`, '', says[i % says.length] ?? t, ''),
    );
  }
  if (info.criteria.length > 0) {
    lines.push('## Acceptance criteria addressed', '');
    for (const c of info.criteria) lines.push(`- ${c}`);
    lines.push('');
  }
  if (info.dependencies.length > 0) {
    lines.push('## Inputs used', '');
    for (const d of info.dependencies)
      lines.push(
        `- ${d.ticketId} (${d.role}) ${d.title}: ${d.files.map((f) => `\`${f.path}\``).join(', ') || 'no files'}`,
      );
    lines.push('');
  }
  if (info.feedback) lines.push('## Changes after review', '', `Addressed: ${clip(info.feedback, 500)}`, '');
  return lines.join('\n');
}

/** A small runnable program for a generic code ticket (Node, or Python for `.py`). */
export function genericCode(path: string, info: WorkerPromptInfo): string {
  const purpose = clip(specBody(info.spec).replace(/\s+/g, ' '), 300);
  if (path.endsWith('.py')) {
    return `"""${info.title}: ${purpose.replace(/"""/g, "'''")}"""\nimport sys\n\n\ndef main(argv):\n    text = sys.stdin.read() if not argv else open(argv[0], encoding="utf-8").read()\n    print(f"lines={len(text.splitlines())} words={len(text.split())} chars={len(text)}")\n    return 0\n\n\nif __name__ == "__main__":\n    sys.exit(main(sys.argv[1:]))\n`;
  }
  const esm = path.endsWith('.mjs');
  return `#!/usr/bin/env node
// ${info.title}
// ${purpose.replace(/\*\//g, '* /')}
${esm ? "import fs from 'node:fs';" : "'use strict';\nconst fs = require('node:fs');"}

function describe(text) {
  return { lines: text.split('\\n').length, words: text.split(/\\s+/).filter(Boolean).length, chars: text.length };
}

function main(args) {
  if (args.includes('--help')) {
    console.log('usage: node ${path} [file]   prints line, word and character counts as JSON');
    return 0;
  }
  const text = args[0] ? fs.readFileSync(args[0], 'utf8') : fs.readFileSync(0, 'utf8');
  console.log(JSON.stringify(describe(text)));
  return 0;
}

${esm ? 'export { describe };\nprocess.exitCode = main(process.argv.slice(2));' : 'module.exports = { describe };\nif (require.main === module) process.exitCode = main(process.argv.slice(2));'}
`;
}
