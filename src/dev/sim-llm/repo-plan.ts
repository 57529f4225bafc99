/**
 * The simulated Boss's plan for a repo run (a plan prompt with a repository map): two parallel
 * coder tickets that each add a small function and its test to a real source file the map lists,
 * on disjoint files, then a ticket that depends on the first and builds on its function. The
 * goal's `[sim:repo-conflict]` makes the two parallel tickets add to the same file, a plan mistake
 * (the second names it under `reads` only, so the scheduler runs both at once) whose merge
 * conflicts; `[sim:repo-fail=Tn]` is carried into Tn's spec (its first attempt fails its test).
 * Specs never quote the goal: workers must not see it.
 */
import { mapRole, type SimPlan, type SimTicket } from './plan-types';
import { parseRepoMap, type MapFile, type RepoMapInfo } from './repo-map';
import { functionName, isEditableSource, isTestFile, langOf, testFileFor, type SimLang } from './repo-lang';
import { clip, firstSentence } from './subject';

/** Files larger than this are not edited: a model rewrites a file whole, and tool results are bounded. */
const MAX_EDIT_BYTES = 7000;

/** The repo directives of a goal: `[sim:repo-fail=T1]`, `[sim:repo-conflict]`. */
export interface RepoDirectives {
  fail: string[];
  conflict: boolean;
}

/** Reads the repo directives of a text (a goal or a spec). */
export function repoDirectivesOf(text: string): RepoDirectives {
  const fail = [...text.matchAll(/\[sim:repo-fail=(T\d{1,3})\]/g)].map((m) => m[1] ?? '');
  return { fail: [...new Set(fail)], conflict: /\[sim:repo-conflict\]/.test(text) };
}

function pickLanguage(map: RepoMapInfo): { lang: SimLang; sources: MapFile[] } | undefined {
  const by = new Map<SimLang, MapFile[]>();
  for (const f of map.files) {
    const lang = langOf(f.path);
    if (!lang || !isEditableSource(f.path) || f.bytes > MAX_EDIT_BYTES) continue;
    by.set(lang, [...(by.get(lang) ?? []), f]);
  }
  const ranked = [...by].sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]));
  const [lang, files] = ranked[0] ?? [];
  if (!lang || !files) return undefined;
  // Files with symbols first (they hold code, not only docs), then by path: deterministic.
  const sources = [...files].sort(
    (a, b) =>
      Number(map.symbols.has(b.path)) - Number(map.symbols.has(a.path)) ||
      Number(a.path.includes('/')) - Number(b.path.includes('/')) ||
      a.path.localeCompare(b.path),
  );
  return { lang, sources };
}

/** An existing test of the language near the sources (Python and JS tests are placed beside it). */
function existingTest(map: RepoMapInfo, lang: SimLang): string | undefined {
  return map.files
    .filter((f) => langOf(f.path) === lang && isTestFile(f.path) && !/conftest\.py$/.test(f.path))
    .sort((a, b) => a.bytes - b.bytes || a.path.localeCompare(b.path))[0]?.path;
}

const test = (cmd: string | undefined) =>
  cmd ? `Run the repository's tests (\`${cmd}\`) and make sure they pass.` : 'Make sure the code still builds.';

function ticket(args: {
  id: string;
  role: string;
  map: RepoMapInfo;
  lang: SimLang;
  source: string;
  existing?: string;
  dependsOn: string[];
  uses?: { ticketId: string; name: string };
  fail: boolean;
  /** `[sim:repo-conflict]`: the plan names the source as read-only, though the ticket adds to it. */
  sourceAsRead?: boolean;
}): SimTicket {
  const { id, lang, source, map } = args;
  const name = functionName(lang, id);
  const testFile = testFileFor(lang, id, source, args.existing);
  const builds = args.uses
    ? ` It builds on ticket ${args.uses.ticketId}'s \`${args.uses.name}\`: return \`${args.uses.name}()\` followed by "+${id}".`
    : ` It returns the string "${id}".`;
  const spec = [
    `Repository: ${map.name}.`,
    `Add a small function \`${name}\` at the end of \`${source}\`.${builds}`,
    `Add a test of it in \`${testFile}\`, following the conventions of the repository's existing tests.`,
    test(map.testCommand),
    ...(args.fail ? [`Test directive: [sim:repo-fail=${id}]`] : []),
  ].join('\n');
  return {
    id,
    role: args.role,
    title: `Add ${name} to ${source}`,
    spec,
    acceptanceCriteria: [
      `${source} defines ${name}`,
      `${testFile} tests ${name}`,
      map.testCommand ? `\`${map.testCommand}\` passes` : 'the code builds',
    ],
    dependsOn: args.dependsOn,
    changes: args.sourceAsRead ? [testFile] : [source, testFile],
    reads: [...(args.sourceAsRead ? [source] : []), ...(args.existing && lang !== 'go' ? [args.existing] : [])],
  };
}

/** The plan for a goal with a repository map; undefined when the prompt has no map. */
export function repoPlanFor(goal: string, prompt: string, roles: readonly string[]): SimPlan | undefined {
  const map = parseRepoMap(prompt);
  if (!map) return undefined;
  const d = repoDirectivesOf(goal);
  const role = mapRole('coder', roles);
  const topic = firstSentence(goal, 160);
  const picked = pickLanguage(map);
  if (!picked) {
    const t: SimTicket = {
      id: 'T1',
      role,
      title: 'Write MAESTRO.md',
      spec: `Repository: ${map.name}.\nWrite \`MAESTRO.md\` with one line naming this repository. ${test(map.testCommand)}`,
      acceptanceCriteria: ['MAESTRO.md names the repository'],
      dependsOn: [],
      changes: ['MAESTRO.md'],
      reads: [],
    };
    return {
      summary: clip(`One ticket on ${map.name} (no source file to edit in the map): ${topic}`, 2000),
      tickets: [t],
    };
  }
  const { lang, sources } = picked;
  const existing = existingTest(map, lang);
  const first = sources[0]!.path;
  const second = d.conflict ? first : (sources[1] ?? sources[0]!).path;
  const base = { role, map, lang, ...(existing ? { existing } : {}) };
  const tickets: SimTicket[] = [
    ticket({ ...base, id: 'T1', source: first, dependsOn: [], fail: d.fail.includes('T1') }),
  ];
  if (second !== first || d.conflict)
    tickets.push(
      ticket({
        ...base,
        id: 'T2',
        source: second,
        dependsOn: [],
        fail: d.fail.includes('T2'),
        // The scheduler keeps tickets whose `changes` overlap apart; this plan's mistake (the shared
        // file named only as read) lets both run at once, so their appends conflict at the merge.
        sourceAsRead: d.conflict,
      }),
    );
  const t3 = `T${tickets.length + 1}`;
  // The dependent ticket edits T1's file after T1 (and, when T2 shares that file, after T2 too).
  tickets.push(
    ticket({
      ...base,
      id: t3,
      source: first,
      dependsOn: second === first && tickets.length > 1 ? ['T1', 'T2'] : ['T1'],
      uses: { ticketId: 'T1', name: functionName(lang, 'T1') },
      fail: d.fail.includes(t3),
    }),
  );
  const parallel = d.conflict ? 'on the same file' : 'on disjoint files';
  return {
    summary: clip(
      `${tickets.length} tickets on ${map.name} (${lang}), the first two in parallel ${parallel}: ${topic}`,
      2000,
    ),
    tickets,
  };
}
