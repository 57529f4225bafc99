import { zodResponseFormat } from 'openai/helpers/zod';
import { FILE_PATH_PATTERN } from '../../src/shared/file-path';
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

  it('refuses hidden, empty and doubled path segments, and paths that clash, at the model answer', () => {
    for (const bad of ['.git/hooks/pre-commit', '.github/workflows/x.yml', '.', 'a/', 'a//b', '.env', 'a/.hidden/b']) {
      expect(ProducedFile.safeParse({ path: bad, content: '' }).success).toBe(false);
    }
    for (const good of ['index.html', 'a-b/c_d.e', '_layouts/x.html', 'v1.2/notes.md']) {
      expect(ProducedFile.safeParse({ path: good, content: '' }).success).toBe(true);
    }
    const clash = WorkResult.safeParse({
      summary: 's',
      files: [
        { path: 'a', content: '' },
        { path: 'a/b', content: '' },
      ],
    });
    expect(clash.success).toBe(false);
    expect(clash.error?.issues[0]?.message).toBe('"a" is a file and also a folder of another path');
    // The rule is in the JSON schema the model is asked to fill, so a structured-output model keeps to it.
    const sent = JSON.stringify(zodResponseFormat(WorkResult, 'work').json_schema);
    const pattern = new RegExp(
      (JSON.parse(/"pattern":("(?:[^"\\]|\\.)*")/.exec(sent)![1]!) as string).replace(/\\\//g, '/'),
    );
    expect(pattern.source).toBe(new RegExp(FILE_PATH_PATTERN).source);
    expect(pattern.test('.git/hooks/pre-commit')).toBe(false);
    expect(pattern.test('css/site.css')).toBe(true);
  });

  it('caps the number of files a worker may return', () => {
    const files = Array.from({ length: 21 }, (_, i) => ({ path: `f${i}.txt`, content: '' }));
    expect(WorkResult.safeParse({ summary: 's', files }).success).toBe(false);
  });
});
