import { blockedTickets, findCycle, readyTickets, topologicalOrder, validatePlan } from '../../src/shared/plan-graph';
import type { TicketState } from '../../src/shared/types';

const ROLES = ['designer', 'writer', 'coder', 'tester'];
const t = (id: string, dependsOn: string[] = [], role = 'coder') => ({
  id,
  role,
  title: `Ticket ${id}`,
  spec: 'spec',
  acceptanceCriteria: ['works'],
  dependsOn,
});

describe('validatePlan', () => {
  it('accepts a valid DAG', () => {
    expect(validatePlan({ tickets: [t('T1'), t('T2', ['T1']), t('T3', ['T1', 'T2'])] }, ROLES)).toEqual([]);
  });

  it('names duplicate ids, unknown dependencies, self-dependencies and unknown roles', () => {
    const errors = validatePlan({ tickets: [t('T1', ['T1']), t('T1'), t('T2', ['T9'], 'pilot')] }, ROLES);
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.stringContaining('T1 is used more than once'),
        expect.stringContaining('T1 depends on itself'),
        expect.stringContaining('T2 depends on T9, which is not in the plan'),
        expect.stringContaining('role "pilot", which does not exist; use one of: designer, writer, coder, tester'),
      ]),
    );
  });

  it('reports a cycle with its path', () => {
    const errors = validatePlan({ tickets: [t('T1', ['T3']), t('T2', ['T1']), t('T3', ['T2'])] }, ROLES);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/cycle: (T\d -> ){3}T\d/);
  });

  it('refuses empty plans and plans over the ticket limit', () => {
    expect(validatePlan({ tickets: [] }, ROLES)[0]).toContain('no tickets');
    const many = Array.from({ length: 5 }, (_, i) => t(`T${i + 1}`));
    expect(validatePlan({ tickets: many }, ROLES, 4)[0]).toContain('at most 4');
  });
});

describe('scheduling', () => {
  const plan = [t('T1'), t('T2'), t('T3', ['T1', 'T2']), t('T4', ['T3']), t('T5', ['T1'])];
  const states = (s: Record<string, TicketState>) =>
    new Map<string, TicketState>(plan.map((p) => [p.id, s[p.id] ?? 'pending']));

  it('readies tickets whose dependencies are all accepted, in plan order', () => {
    expect(readyTickets(plan, states({}))).toEqual(['T1', 'T2']);
    expect(readyTickets(plan, states({ T1: 'accepted', T2: 'running' }))).toEqual(['T5']);
    expect(readyTickets(plan, states({ T1: 'accepted', T2: 'accepted' }))).toEqual(['T3', 'T5']);
  });

  it('blocks dependents of a failed or escalated ticket transitively', () => {
    expect(blockedTickets(plan, states({ T1: 'accepted', T2: 'failed' }))).toEqual(['T3', 'T4']);
    expect(blockedTickets(plan, states({ T1: 'escalated' }))).toEqual(['T3', 'T4', 'T5']);
    expect(blockedTickets(plan, states({ T1: 'accepted', T2: 'accepted' }))).toEqual([]);
  });

  it('orders topologically and finds no cycle in a DAG', () => {
    const order = topologicalOrder([t('T3', ['T1', 'T2']), t('T1'), t('T2', ['T1'])]);
    expect(order).toEqual(['T1', 'T2', 'T3']);
    expect(findCycle(plan)).toBeUndefined();
  });
});
