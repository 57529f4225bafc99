/**
 * Planning in repo runs (issue 20): the Boss's plan prompt carries the repository map and the
 * rules for files, the plan schema asks each ticket for `changes` and `reads` (nullable on the
 * wire, absent in other runs), paths that escape are plan problems, and the scheduler's overlap
 * test treats a folder as every file under it.
 */
import { wireSchemaOf, type JsonSchema } from '../../src/activities/llm/wire-schema';
import { repoPlanSection } from '../../src/activities/roles/boss';
import { pathsOverlap, repoPlanProblems, unsafeRepoPath } from '../../src/shared/repo-paths';
import { planSchemaForRoles, type Plan } from '../../src/shared/schemas';

type WirePlan = { properties: { tickets: { items: { properties: Record<string, JsonSchema>; required: string[] } } } };

test('the repo plan schema asks every ticket for changes and reads; other runs are not asked', () => {
  const repo = wireSchemaOf(planSchemaForRoles(['coder'], { repo: true })).schema as WirePlan;
  const ticket = repo.properties.tickets.items;
  expect(ticket.required).toEqual(expect.arrayContaining(['changes', 'reads']));
  expect(JSON.stringify(ticket.properties.changes)).toContain('"null"');
  expect(String(ticket.properties.changes!.description)).toMatch(/parallel must not share/);
  const plain = wireSchemaOf(planSchemaForRoles(['coder'])).schema as WirePlan;
  expect(Object.keys(plain.properties.tickets.items.properties)).not.toContain('changes');
  // A null from the model means "none": the plan validates without the field.
  const answer = {
    summary: 's',
    tickets: [
      {
        id: 'T1',
        role: 'coder',
        title: 't',
        spec: 's',
        acceptanceCriteria: ['c'],
        dependsOn: [],
        changes: ['a.go'],
        reads: null,
      },
    ],
  };
  const parsed: Plan = planSchemaForRoles(['coder'], { repo: true }).parse(
    wireSchemaOf(planSchemaForRoles(['coder'], { repo: true })).restore(answer),
  );
  expect(parsed.tickets[0]!.changes).toEqual(['a.go']);
  expect(parsed.tickets[0]!.reads).toBeUndefined();
});

test('the plan prompt section shows the map and the file rules', () => {
  const text = repoPlanSection('# Repository map: uuid at 0123456789ab (12 files, 40 B)\n## Tree\n- uuid.go (10 B)');
  expect(text).toContain('# Repository map: uuid at 0123456789ab');
  expect(text).toMatch(/disjoint files/);
  expect(text).toMatch(/never inside `.git`/);
});

test('escaping paths are plan problems that name the ticket, the field and the fix', () => {
  expect(
    repoPlanProblems({
      tickets: [
        {
          id: 'T2',
          role: 'coder',
          title: 't',
          spec: 's',
          acceptanceCriteria: ['c'],
          dependsOn: [],
          changes: ['src/ok.go', 'src/'],
          reads: ['../../etc/passwd'],
        },
      ],
    }),
  ).toEqual([
    'ticket T2 lists "../../etc/passwd" in `reads`, which has an empty, `.` or `..` part: name files by their path relative to the repository root, outside .git',
  ]);
  for (const bad of ['/abs', '.git/config', 'a/.Git/hooks/x', 'a/./b', 'a\\b', ''])
    expect(unsafeRepoPath(bad)).toBeDefined();
});

test('paths overlap when equal or when one is a folder of the other', () => {
  expect(pathsOverlap(['src/a.go'], ['src/a.go'])).toBe(true);
  expect(pathsOverlap(['src/'], ['src/a.go'])).toBe(true);
  expect(pathsOverlap(['src'], ['src/x/y.go'])).toBe(true);
  expect(pathsOverlap(['src/a.go'], ['src/ab.go'])).toBe(false);
  expect(pathsOverlap(['srcx/a'], ['src'])).toBe(false);
  expect(pathsOverlap(undefined, ['a'])).toBe(false);
  expect(pathsOverlap([], ['a'])).toBe(false);
});
