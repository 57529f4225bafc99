import { buildAgentPrompt } from '../../src/activities/agent/agent-prompt';
import { buildExecutorPrompt } from '../../src/activities/executor/prompt';
import { buildPlanPrompt, buildReviewPrompt, buildWorkerPrompt } from '../../src/activities/roles/prompts';
import type { Ticket } from '../../src/shared/schemas';

const ticket: Ticket = {
  id: 'T3',
  role: 'coder',
  title: 'Build the landing page',
  spec: 'Build index.html for the bakery "Crumbs".',
  acceptanceCriteria: ['links styles.css', 'has a contact section'],
  dependsOn: ['T1'],
};

describe('prompt builders', () => {
  it('puts the goal, the roles and the previous problems into the plan prompt', () => {
    const p = buildPlanPrompt({
      bossSystemPrompt: 'BOSS',
      goal: 'Open a bakery website',
      roles: [{ name: 'coder', description: 'writes code' }],
      maxTickets: 7,
      problems: ['the dependencies form a cycle: T1 -> T2 -> T1'],
    });
    expect(p.system).toContain('BOSS');
    expect(p.user).toContain('# Goal\nOpen a bakery website');
    expect(p.user).toContain('- coder: writes code');
    expect(p.user).toContain('at most 7 tickets');
    expect(p.user).toContain('# Problems with your previous plan (fix every one)\n- the dependencies form a cycle');
  });

  it('gives a worker its ticket, its dependencies and feedback only', () => {
    const p = buildWorkerPrompt({
      roleSystemPrompt: 'You are the Coder.',
      ticket,
      dependencies: [
        {
          ticketId: 'T1',
          role: 'designer',
          title: 'Design',
          summary: 'Palette and CSS',
          files: [{ path: 'styles.css', bytes: 5000, text: 'body{}', truncated: true }],
        },
      ],
      feedback: 'Add a viewport meta tag.',
      attempt: 2,
    });
    expect(p.system).toMatch(/^You are the Coder\.\n\n## Answer\n/);
    expect(p.user).toContain('# Ticket T3: Build the landing page');
    expect(p.user).toContain('- links styles.css');
    expect(p.user).toContain('### T1 (designer): Design');
    expect(p.user).toContain('#### File: styles.css (first 6 of 5000 bytes)');
    expect(p.user).toContain('## Reviewer feedback on your previous attempt (attempt 1)\nAdd a viewport meta tag.');
    expect(p.user).not.toContain('# Goal');
  });

  it('leaves out empty sections for a first attempt without dependencies', () => {
    const p = buildWorkerPrompt({
      roleSystemPrompt: 's',
      ticket: { ...ticket, dependsOn: [] },
      dependencies: [],
      attempt: 1,
    });
    expect(p.user).not.toContain('Inputs from the tickets');
    expect(p.user).not.toContain('Reviewer feedback');
  });

  it('shows the reviewer the ticket, the result and the revisions left', () => {
    const p = buildReviewPrompt({
      bossSystemPrompt: 'BOSS',
      ticket,
      summary: 'Built it',
      files: [{ path: 'index.html', bytes: 10, text: '<html>', truncated: false }],
      attempt: 1,
      revisionsLeft: 2,
    });
    expect(p.user).toContain('# Review of ticket T3 (coder): Build the landing page');
    expect(p.user).toContain('## Result of attempt 1\nSummary: Built it');
    expect(p.user).toContain('#### File: index.html\n```\n<html>\n```');
    expect(p.user).toContain('Revisions left: 2');
  });

  it('fences a file that has its own code blocks with a longer fence', () => {
    const md = 'Run it:\n```bash\nnode x.js\n```\nDone.';
    const p = buildReviewPrompt({
      bossSystemPrompt: 'B',
      ticket,
      summary: 's',
      files: [{ path: 'README.md', bytes: md.length, text: md, truncated: false }],
      attempt: 1,
      revisionsLeft: 0,
    });
    expect(p.user).toContain(`#### File: README.md\n\`\`\`\`\n${md}\n\`\`\`\``);
  });
});

describe('stable-first prompts (issue 23)', () => {
  it('keeps the stable part identical for every ticket and puts what changes per call last', () => {
    const review = (t: Ticket, revisionsLeft: number) =>
      buildReviewPrompt({ bossSystemPrompt: 'BOSS', ticket: t, summary: 's', files: [], attempt: 1, revisionsLeft });
    const a = review(ticket, 2);
    const b = review({ ...ticket, id: 'T9', title: 'Other' }, 0);
    expect(a.system).toBe(b.system);
    expect(a.system).toContain('Accept when every acceptance criterion is met');
    expect(a.user.endsWith('## Decide\nRevisions left: 2.')).toBe(true);
    const w = buildWorkerPrompt({ roleSystemPrompt: 'R', ticket, dependencies: [], feedback: 'Fix it.', attempt: 2 });
    expect(w.user.endsWith('Fix it.')).toBe(true);
    const plan = buildPlanPrompt({
      bossSystemPrompt: 'BOSS',
      goal: 'g',
      roles: [],
      maxTickets: 3,
      problems: ['bad'],
      repoSection: '# The repository you work on\nmap',
    });
    // A re-plan repeats everything up to its problems (the repository map included) as a prefix.
    expect(plan.user.indexOf('# The repository you work on')).toBeLessThan(plan.user.indexOf('# Problems'));
  });

  it('gives an agent the same system message for every ticket of its role, the ticket in the user message', () => {
    const agent = (t: Ticket) =>
      buildAgentPrompt({
        roleSystemPrompt: 'You are the Coder.',
        ticket: t,
        dependencies: [],
        attempt: 1,
        tools: ['read_file', 'write_file'],
        maxTurns: 8,
        maxToolCalls: 4,
      });
    const [a, b] = [agent(ticket), agent({ ...ticket, id: 'T7', title: 'Another page' })];
    expect(a.system).toBe(b.system);
    expect(a.system).toContain('# Working with tools');
    expect(a.system).not.toContain('T3');
    expect(a.user.startsWith('# Ticket T3: Build the landing page')).toBe(true);
  });

  it("gives a coding-agent CLI the whole brief and its delivery rules, not the single-call worker's answer rules", () => {
    const p = buildExecutorPrompt({
      roleSystemPrompt: 'You are the Writer.',
      ticket: { ...ticket, spec: 'Write copy.md.\n## Answer\nnot a heading of the prompt' },
      dependencies: [],
      attempt: 1,
      spaceFiles: [],
    });
    expect(p).toContain('Write copy.md.\n## Answer\nnot a heading of the prompt');
    expect(p).toContain('## How to deliver');
    expect(p).not.toContain('Return a short summary');
  });
});
