/**
 * The simulator's readers of the repo formats (R20): the repository map, a repo ticket's worker
 * prompt (new, cut and refused files, dependency diffs, feedback) and the repo review's test
 * section; and what it answers from them: plans on the map's real files, a refusal to rewrite a
 * file it could not read whole, a revision exactly when the repository's tests failed.
 */
import { SCHEMA_NAMES } from '../../src/shared/constants';
import { SimContent } from '../../src/dev/sim-llm';
import { parseRepoMap } from '../../src/dev/sim-llm/repo-map';
import { repoPlanFor } from '../../src/dev/sim-llm/repo-plan';
import { parseRepoPrompt } from '../../src/dev/sim-llm/repo-prompt';
import { repoAgentStep } from '../../src/dev/sim-llm/repo-agent';
import { isRepoReview, repoReviewFor } from '../../src/dev/sim-llm/repo-review';

const MAP = [
  '# Repository map: demo at 0123456789ab (9 files, 20000 B)',
  'Languages: Go 6, Markdown 1',
  'Test command: go test ./...',
  '## README (opening)',
  '# demo',
  '## Tree',
  '- README.md (100 B)',
  '- a.go (300 B)',
  '- a_test.go (200 B)',
  '- b.go (400 B)',
  '- big.go (90000 B)',
  '- node_js.go (50 B)',
  '- internal/ (40 files, 9000 B; Go 40)',
  '- internal/c.go (250 B)',
  '## Symbols',
  '- a.go: func A',
  '- b.go: func B',
].join('\n');

describe('repository map and plan', () => {
  it('reads only listed files (not summarised folders) and plans on small real sources', () => {
    const map = parseRepoMap(`# Goal\nx\n\n${MAP}\n# Rules for repository tickets\n- y`)!;
    expect(map.name).toBe('demo');
    expect(map.testCommand).toBe('go test ./...');
    expect(map.files.map((f) => f.path)).not.toContain('internal/');
    const plan = repoPlanFor('Add helpers', MAP, ['coder', 'tester'])!;
    expect(plan.tickets.map((t) => [t.id, t.changes, t.dependsOn])).toEqual([
      ['T1', ['a.go', 'maestro_t1_test.go'], []],
      ['T2', ['b.go', 'maestro_t2_test.go'], []],
      ['T3', ['a.go', 'maestro_t3_test.go'], ['T1']],
    ]);
    for (const t of plan.tickets) expect(t.spec).not.toContain('Add helpers'); // workers never see the goal
  });

  it('[sim:repo-conflict] puts both parallel tickets on one file; the dependent one waits for both', () => {
    const plan = repoPlanFor('x [sim:repo-conflict] [sim:repo-fail=T2]', MAP, ['coder'])!;
    // T2 adds to a.go too, though the plan names it only to read: the scheduler runs both at once.
    expect(plan.tickets.map((t) => [t.changes, t.reads, t.dependsOn])).toEqual([
      [['a.go', 'maestro_t1_test.go'], [], []],
      [['maestro_t2_test.go'], ['a.go'], []],
      [['a.go', 'maestro_t3_test.go'], [], ['T1', 'T2']],
    ]);
    expect(plan.tickets[1]!.spec).toContain('[sim:repo-fail=T2]');
    expect(plan.tickets[0]!.spec).not.toContain('repo-fail');
  });

  it('a plan prompt without a map gets the usual plan', () => {
    expect(repoPlanFor('Write an essay', '# Goal\nWrite an essay', ['writer'])).toBeUndefined();
  });
});

const PROMPT = [
  '# Ticket T3: Add MaestroT3 to a.go',
  '## Specification\nRepository: demo.\nAdd `MaestroT3`.',
  '## Acceptance criteria\n- ok',
  '## Repository\ndemo; test command: `go test ./...`',
  '## Files you may change\n### a.go\n```\npackage demo\n\nfunc A() {}\n```\n\n### maestro_t3_test.go (new file)\n```\n\n```',
  '## Files to read\n### .git/config (not shown: a .git path)\n\n### big.go\n```\npackage demo\n```\n[cut: the first 13 of 90000 bytes are shown]',
  '## Changes of the tickets this one depends on\n### T1 Add MaestroT1 to a.go\n```diff\n+func MaestroT1() string { return "T1" }\n```',
  '## Reviewer feedback on your previous attempt (attempt 1)\nThe merge conflicts:\n```\n<<<<<<< ours\n=======\n>>>>>>> theirs\n```',
  '## Answer\nReturn a short summary.',
].join('\n\n');

describe("a repo ticket's worker prompt", () => {
  it('is read with its files, new files, refused and cut files, dependency diffs and feedback', () => {
    const info = parseRepoPrompt(PROMPT);
    expect(info).toMatchObject({ ticketId: 'T3', name: 'demo', testCommand: 'go test ./...' });
    expect(info.changes).toEqual([
      { path: 'a.go', isNew: false, truncated: false, text: 'package demo\n\nfunc A() {}\n' },
      { path: 'maestro_t3_test.go', isNew: true, truncated: false },
    ]);
    expect(info.reads).toEqual([{ path: 'big.go', isNew: false, truncated: true, text: 'package demo\n' }]);
    expect(info.dependencies).toEqual([
      { ticketId: 'T1', title: 'Add MaestroT1 to a.go', diff: '+func MaestroT1() string { return "T1" }' },
    ]);
    expect(info.feedback).toContain('<<<<<<< ours');
  });

  it('the agent builds on its dependency and writes the file it read back whole', () => {
    const read = { name: 'read_file', args: { path: 'a.go' }, result: 'package demo\n\nfunc A() {}\n', turn: 1 };
    const step = repoAgentStep(PROMPT, ['read_file', 'write_file', 'run_command'], [read]);
    expect('calls' in step && step.calls.map((c) => [c.name, c.args.path])).toEqual([
      ['write_file', 'a.go'],
      ['write_file', 'maestro_t3_test.go'],
    ]);
    const calls = 'calls' in step ? step.calls : [];
    expect(calls[0]!.args.content).toBe(
      'package demo\n\nfunc A() {}\n\n// MaestroT3 returns the tag of Maestro\'s ticket T3.\nfunc MaestroT3() string { return MaestroT1() + "+T3" }\n',
    );
    expect(calls[1]!.args.content).toContain('if got := MaestroT3(); got != "T1+T3" {');
  });

  it('a file it could not read whole is left alone, and it says so', () => {
    const cut = PROMPT.replace(
      '### a.go\n```\npackage demo\n\nfunc A() {}\n```',
      '### a.go\n```\npackage demo\n```\n[cut: the first 13 of 9000 bytes are shown]',
    );
    const read = {
      name: 'read_file',
      args: { path: 'a.go' },
      result: 'x\n[... 100 more characters; the full output is stored as an artifact]',
      turn: 1,
    };
    const step = repoAgentStep(cut, ['read_file', 'write_file', 'run_command'], [read]);
    expect('final' in step && step.final.summary).toMatch(/could not read the whole of a\.go/);
  });
});

describe('the review of a repo ticket', () => {
  const review = (tests: string) =>
    [
      '# Review of ticket T1 (coder): Add MaestroT1 to a.go',
      '## Specification\nRepository: demo.\nAdd it.',
      '## Acceptance criteria\n- a.go defines MaestroT1\n- `go test ./...` passes',
      '## Result of attempt 1\nSummary: done\n\n### Diff against the start of the ticket (repository demo)\n```diff\n+FAIL\n```',
      tests,
      '## Decide\nAccept when ...',
    ].join('\n\n');

  it('revises when the repository tests failed, accepts when they passed', () => {
    const failed = review(
      "## The repository's tests on this result: FAILED\n$ go test ./... (exit code 1)\n```\n--- FAIL: TestMaestroT1\nFAIL\n```",
    );
    const passed = review(
      "## The repository's tests on this result: PASSED\n$ go test ./... (exit code 0)\n```\nok  demo 0.1s\n```",
    );
    expect(isRepoReview(failed)).toBe(true);
    expect(repoReviewFor(failed)).toMatchObject({ verdict: 'revise' });
    expect(repoReviewFor(failed).feedback).toContain('--- FAIL: TestMaestroT1');
    expect(repoReviewFor(passed)).toMatchObject({ verdict: 'accept' });
    // Through the content generator too (the review schema's name picks it).
    const sim = new SimContent();
    expect(sim.answer({ schemaName: SCHEMA_NAMES.review, system: '', user: passed })).toMatchObject({
      verdict: 'accept',
    });
  });
});
