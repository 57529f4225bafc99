import { Goal, planSchemaForRoles, ProducedFile, WorkResult } from '../../src/shared/schemas';
import { MAX_GOAL_CHARS } from '../../src/shared/constants';

describe('schemas', () => {
  it('trims goals and refuses empty or oversized ones with what to do', () => {
    expect(Goal.parse('  Build a site  ')).toBe('Build a site');
    const empty = Goal.safeParse('   ');
    expect(empty.success).toBe(false);
    expect(empty.error?.issues[0]?.message).toContain('the goal is empty');
    const long = Goal.safeParse('x'.repeat(MAX_GOAL_CHARS + 1));
    expect(long.error?.issues[0]?.message).toContain(`longer than ${MAX_GOAL_CHARS}`);
  });

  it('builds the plan schema from the configured roles', () => {
    const schema = planSchemaForRoles(['coder', 'tester']);
    const ticket = { id: 'T1', role: 'coder', title: 't', spec: 's', acceptanceCriteria: ['c'], dependsOn: [] };
    expect(schema.safeParse({ summary: 's', tickets: [ticket] }).success).toBe(true);
    expect(schema.safeParse({ summary: 's', tickets: [{ ...ticket, role: 'designer' }] }).success).toBe(false);
    expect(() => planSchemaForRoles([])).toThrow('at least one worker role');
  });

  it('refuses produced file paths that could escape the output folder', () => {
    for (const bad of ['/etc/passwd', '../x', 'a/../../b', 'sp ace.txt', '']) {
      expect(ProducedFile.safeParse({ path: bad, content: '' }).success).toBe(false);
    }
    expect(ProducedFile.safeParse({ path: 'css/site.min.css', content: 'x' }).success).toBe(true);
  });

  it('caps the number of files a worker may return', () => {
    const files = Array.from({ length: 21 }, (_, i) => ({ path: `f${i}.txt`, content: '' }));
    expect(WorkResult.safeParse({ summary: 's', files }).success).toBe(false);
  });
});
