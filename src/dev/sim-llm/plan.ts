/**
 * The simulated Boss's plans: the website plan for web goals, a generic plan for other goals,
 * and the `[sim:tickets=N]` (`[sim:width=W]`) / `[sim:epics=E]` / `[sim:invalid-plan=K]` / `[sim:revise=N]` test shapes.
 */
import { EPIC_ROLE } from '../../shared/epics';
import { DEFAULT_SIM_ROLES, mapRole, type SimPlan, type SimTicket } from './plan-types';
import { websitePlan } from './plan-website';
import {
  clip,
  deriveSubject,
  directivesOf,
  firstSentence,
  isCodeText,
  isWebsiteText,
  slugOf,
  stripDirectives,
} from './subject';

const STOP_WORDS = new Set([
  'write',
  'build',
  'create',
  'make',
  'implement',
  'develop',
  'code',
  'a',
  'an',
  'the',
  'that',
  'which',
  'in',
  'of',
  'for',
  'to',
  'with',
  'and',
  'small',
  'simple',
  'me',
  'please',
  'some',
  'from',
  'on',
  'my',
  'our',
]);

/** A short file name for the code of a goal ("cli-tool-counts-words"). */
export function codeSlug(goal: string): string {
  const words = slugOf(firstSentence(goal, 200), 200)
    .split('-')
    .filter((w) => !STOP_WORDS.has(w));
  return slugOf(words.slice(0, 4).join(' '), 40) || 'main';
}

function genericPlan(goal: string, roles: readonly string[]): SimPlan {
  const topic = firstSentence(goal, 160);
  const brief = `Goal context: "${clip(stripDirectives(goal), 1500)}"`;
  const slug = codeSlug(goal);
  const tickets: SimTicket[] = [
    {
      id: 'T1',
      role: mapRole('writer', roles),
      title: 'Outline the deliverable',
      spec: [
        `Topic: ${topic}`,
        'Write an outline of the deliverable: its parts, in order, each with one line on what it covers.',
        'Deliver this file: `docs/outline.md`.',
        brief,
      ].join('\n'),
      acceptanceCriteria: [
        'docs/outline.md lists the parts of the deliverable in order',
        'Each part has a one-line description',
      ],
      dependsOn: [],
    },
    {
      id: 'T2',
      role: mapRole('writer', roles),
      title: 'Write the draft',
      spec: [
        `Topic: ${topic}`,
        'Write the full draft following the outline from ticket T1 (docs/outline.md).',
        'Deliver this file: `docs/draft.md`.',
        brief,
      ].join('\n'),
      acceptanceCriteria: ['docs/draft.md covers every part of the outline', 'The draft is clear and concrete'],
      dependsOn: ['T1'],
    },
  ];
  if (isCodeText(goal)) {
    tickets.push({
      id: 'T3',
      role: mapRole('coder', roles),
      title: 'Implement the code',
      spec: [
        `Topic: ${topic}`,
        'Implement the program described in the goal context, following the outline from ticket T1. Plain Node.js, no dependencies.',
        `Deliver these files: \`src/${slug}.js\`, \`docs/usage.md\`.`,
        brief,
      ].join('\n'),
      acceptanceCriteria: [`src/${slug}.js runs with plain Node`, 'docs/usage.md explains how to run it'],
      dependsOn: ['T1'],
    });
  }
  const reviewed = tickets.map((t) => t.id).filter((id) => id !== 'T1');
  tickets.push({
    id: `T${tickets.length + 1}`,
    role: mapRole('tester', roles),
    title: 'Review the deliverables',
    spec: [
      `Topic: ${topic}`,
      `Check the outputs of tickets ${reviewed.join(' and ')} against the topic and report what works and what is missing.`,
      'Deliver this file: `TEST-REPORT.md`.',
    ].join('\n'),
    acceptanceCriteria: [
      'TEST-REPORT.md lists each checked file with a verdict',
      'Problems found are described concretely',
    ],
    dependsOn: reviewed,
  });
  return { summary: clip(`Plan for: ${topic}`, 2000), tickets };
}

function layeredPlan(goal: string, n: number, roles: readonly string[], width = 4): SimPlan {
  const topic = firstSentence(goal, 100);
  const tickets: SimTicket[] = [];
  for (let i = 0; i < n; i++) {
    const layer = Math.floor(i / width);
    const prevStart = (layer - 1) * width;
    const dependsOn = layer === 0 ? [] : [`T${prevStart + (i % width) + 1}`];
    tickets.push({
      id: `T${i + 1}`,
      role: roles[i % roles.length] ?? 'writer',
      title: `Part ${i + 1} of ${n}`,
      spec: [
        `Topic: ${topic}`,
        `Produce part ${i + 1} of ${n} of the work on this topic${dependsOn.length ? `, building on ${dependsOn[0]}` : ''}.`,
        `Deliver this file: \`parts/part-${i + 1}.md\`.`,
      ].join('\n'),
      acceptanceCriteria: [`parts/part-${i + 1}.md exists and covers part ${i + 1}`],
      dependsOn,
    });
  }
  return { summary: clip(`${n} tickets in layers of ${width} for: ${topic}`, 2000), tickets };
}

/**
 * `[sim:epics=E]`: E independent epics, each handed to a sub-Boss whose goal (the epic's spec)
 * carries the goal's other directives, so each sub-plan has the `tickets`/`width` shape.
 */
function epicPlan(goal: string, epics: number): SimPlan {
  const topic = firstSentence(goal, 100);
  const carried = [...goal.matchAll(/\[sim:(?!epics=)[a-z-]+=\d+\]/g)].map((m) => m[0]).join(' ');
  const tickets: SimTicket[] = [];
  for (let i = 1; i <= epics; i++) {
    tickets.push({
      id: `T${i}`,
      role: EPIC_ROLE,
      title: `Epic ${i} of ${epics}`,
      spec: [`Topic: ${topic}`, `Deliver part ${i} of ${epics} of the work on this topic.`, carried].join('\n'),
      acceptanceCriteria: [`every ticket of epic ${i} is accepted`],
      dependsOn: [],
    });
  }
  return { summary: clip(`${epics} epics for sub-Bosses: ${topic}`, 2000), tickets };
}

/** The plan for a goal, given the roles the schema allows and the prompt's ticket bound. */
export function planFor(goal: string, schemaRoles: readonly string[], maxTickets = 100): SimPlan {
  const offered = schemaRoles.length > 0 ? schemaRoles : DEFAULT_SIM_ROLES;
  // The `boss` role (epics) is only used when asked for; worker tickets get the worker roles.
  const workers = offered.filter((r) => r !== EPIC_ROLE);
  const roles = workers.length > 0 ? workers : DEFAULT_SIM_ROLES;
  const directives = directivesOf(goal);
  let plan: SimPlan;
  if (directives.epics !== undefined && offered.includes(EPIC_ROLE))
    plan = epicPlan(goal, Math.min(100, Math.max(1, directives.epics)));
  else if (directives.tickets !== undefined)
    plan = layeredPlan(goal, Math.min(100, Math.max(1, directives.tickets)), roles, Math.max(1, directives.width ?? 4));
  else if (isWebsiteText(goal)) plan = websitePlan(goal, deriveSubject(goal), roles);
  else plan = genericPlan(goal, roles);
  if (directives.revise !== undefined) {
    for (const t of plan.tickets) t.spec = `${t.spec}\nReview directive: [sim:revise=${directives.revise}]`;
  }
  if (directives.failingTest !== undefined) {
    for (const t of plan.tickets) t.spec = `${t.spec}\nTest directive: [sim:failing-test=${directives.failingTest}]`;
  }
  if (directives.badToolCall !== undefined) {
    for (const t of plan.tickets) t.spec = `${t.spec}\nTool directive: [sim:bad-tool-call=${directives.badToolCall}]`;
  }
  if (directives.tickets === undefined && plan.tickets.length > maxTickets) {
    const kept = plan.tickets.slice(0, Math.max(1, maxTickets));
    const ids = new Set(kept.map((t) => t.id));
    for (const t of kept) t.dependsOn = t.dependsOn.filter((d) => ids.has(d));
    plan.tickets = kept;
  }
  for (const t of plan.tickets) t.spec = clip(t.spec, 4000);
  return plan;
}

/** The plan made invalid by a dependency cycle (T1 <-> T2, or T1 on itself). */
export function withCycle(plan: SimPlan): SimPlan {
  const tickets = plan.tickets.map((t) => ({ ...t, dependsOn: [...t.dependsOn] }));
  const [a, b] = tickets;
  if (a && b) {
    a.dependsOn = ['T2'];
    b.dependsOn = ['T1'];
  } else if (a) a.dependsOn = ['T1'];
  return { summary: plan.summary, tickets };
}
