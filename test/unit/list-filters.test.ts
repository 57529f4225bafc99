/** `maestro list --phase/--since`: flag validation with clear messages, and the visibility queries. */
import { InvalidArgumentError } from 'commander';
import {
  buildListPlan,
  parsePhaseOption,
  parseSinceOption,
  phaseMatches,
  phaseNeedsSearchAttribute,
  subRunCountQuery,
} from '../../src/client/list-filters';

const NOW = new Date('2026-11-25T12:00:00.000Z');

describe('parseSinceOption', () => {
  it.each([
    ['90m', '2026-11-25T10:30:00.000Z'],
    ['2h', '2026-11-25T10:00:00.000Z'],
    ['3d', '2026-11-22T12:00:00.000Z'],
    ['1w', '2026-11-18T12:00:00.000Z'],
    ['45s', '2026-11-25T11:59:15.000Z'],
    ['2026-11-24', '2026-11-24T00:00:00.000Z'],
    ['2026-11-24T08:30:00Z', '2026-11-24T08:30:00.000Z'],
    ['2026-11-24T08:30:00+02:00', '2026-11-24T06:30:00.000Z'],
  ])('%s -> %s', (value, iso) => {
    expect(parseSinceOption(value, NOW).toISOString()).toBe(iso);
  });

  it.each(['yesterday', '2h ago', '-2h', '5y', '2026-13-40', '', '12'])('refuses %j, saying what is accepted', (v) => {
    expect(() => parseSinceOption(v, NOW)).toThrow(InvalidArgumentError);
    expect(() => parseSinceOption(v, NOW)).toThrow(
      /--since takes a duration such as 30m, 2h, 3d or 1w, or an ISO date/,
    );
  });

  it('refuses a moment in the future', () => {
    expect(() => parseSinceOption('2027-01-01', NOW)).toThrow('--since 2027-01-01 is in the future');
  });
});

describe('parsePhaseOption', () => {
  it('accepts the phases, case-insensitively', () => {
    expect(parsePhaseOption('Executing')).toBe('executing');
    expect(parsePhaseOption('running')).toBe('running');
  });

  it('lists the phases when the value is unknown', () => {
    expect(() => parsePhaseOption('done')).toThrow(
      '--phase takes one of planning, awaiting-approval, executing, finalizing, running, completed, stopped, failed, cancelled; got "done".',
    );
  });

  it('accepts stopped, the phase `maestro list` shows for runs ended at their budget gate', () => {
    expect(parsePhaseOption(' STOPPED ')).toBe('stopped');
  });

  it.each(['', ' ', 'stopped;drop', 'completed OR 1=1', "completed' OR '1'='1", 'x'.repeat(100_000), '\u001b[31mred'])(
    'refuses hostile %#, escaping control characters and cutting long values',
    (v) => {
      let message = '';
      try {
        parsePhaseOption(v);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message).toMatch(/^--phase takes one of .*; got ".*"\.$/);
      expect(message).not.toContain('\u001b');
      expect(message.length).toBeLessThan(250);
    },
  );
});

describe('buildListPlan', () => {
  const since = new Date('2026-11-25T10:00:00.000Z');

  it("lists every top-level run without filters; with subRuns, epics' sub-runs too", () => {
    expect(buildListPlan({}, true)).toEqual({
      query: `WorkflowType = 'orchestratorWorkflow' AND ParentWorkflowId IS NULL`,
    });
    expect(buildListPlan({ subRuns: true, phase: 'completed' }, true)).toEqual({
      query: `WorkflowType = 'orchestratorWorkflow' AND ExecutionStatus = 'Completed' AND (MaestroPhase IS NULL OR MaestroPhase != 'stopped')`,
    });
  });

  it("counts a run's sub-runs at every level by their root, quoting the id", () => {
    expect(subRunCountQuery('run-1')).toBe(
      `WorkflowType = 'orchestratorWorkflow' AND RootWorkflowId = 'run-1' AND ParentWorkflowId IS NOT NULL`,
    );
    expect(subRunCountQuery("it's")).toContain(`RootWorkflowId = 'it\\'s'`);
  });

  it('filters a live phase with the MaestroPhase search attribute and the start time', () => {
    expect(buildListPlan({ phase: 'executing', since }, true)).toEqual({
      query: `WorkflowType = 'orchestratorWorkflow' AND ParentWorkflowId IS NULL AND ExecutionStatus = 'Running' AND MaestroPhase = 'executing' AND StartTime > '2026-11-25T10:00:00.000Z'`,
    });
  });

  it('falls back to the execution status and asks each run when MaestroPhase is not registered, and says so', () => {
    const plan = buildListPlan({ phase: 'executing' }, false);
    expect(plan.query).toBe(
      `WorkflowType = 'orchestratorWorkflow' AND ParentWorkflowId IS NULL AND ExecutionStatus = 'Running'`,
    );
    expect(plan.postFilterPhase).toBe('executing');
    expect(plan.note).toMatch(/MaestroPhase is not registered.*maestro setup/);
  });

  it('finds runs waiting for a person by asking each open run, with or without the search attribute', () => {
    for (const registered of [true, false]) {
      expect(buildListPlan({ phase: 'awaiting-approval' }, registered)).toEqual({
        query: `WorkflowType = 'orchestratorWorkflow' AND ParentWorkflowId IS NULL AND ExecutionStatus = 'Running'`,
        postFilterPhase: 'awaiting-approval',
      });
    }
  });

  it('tells completed from stopped runs by MaestroPhase: completed means completed only', () => {
    expect(buildListPlan({ phase: 'stopped' }, true).query).toBe(
      `WorkflowType = 'orchestratorWorkflow' AND ParentWorkflowId IS NULL AND ExecutionStatus = 'Completed' AND MaestroPhase = 'stopped'`,
    );
    expect(buildListPlan({ phase: 'completed' }, true).query).toContain(`MaestroPhase != 'stopped'`);
  });

  it('without MaestroPhase: completed lists every Completed run and says stopped ones are among them; stopped is refused saying what to run', () => {
    const plan = buildListPlan({ phase: 'completed' }, false);
    expect(plan.query).toBe(
      `WorkflowType = 'orchestratorWorkflow' AND ParentWorkflowId IS NULL AND ExecutionStatus = 'Completed'`,
    );
    expect(plan.note).toMatch(/stopped at their budget cannot be told apart.*maestro setup/);
    expect(() => buildListPlan({ phase: 'stopped' }, false)).toThrow(
      /--phase stopped needs the search attribute MaestroPhase.*maestro setup/,
    );
  });

  it.each(['completed', 'stopped', 'planning', 'executing', 'finalizing'] as const)(
    '%s needs the MaestroPhase search attribute',
    (p) => expect(phaseNeedsSearchAttribute(p)).toBe(true),
  );
  it.each(['running', 'awaiting-approval', 'failed', 'cancelled', undefined] as const)(
    '%s does not need the MaestroPhase search attribute',
    (p) => expect(phaseNeedsSearchAttribute(p)).toBe(false),
  );

  it('maps failed, cancelled and running to execution statuses, which need no search attribute', () => {
    expect(buildListPlan({ phase: 'failed' }, false).query).toContain(
      `ExecutionStatus IN ('Failed', 'Terminated', 'TimedOut')`,
    );
    expect(buildListPlan({ phase: 'cancelled' }, false).query).toContain(`ExecutionStatus = 'Canceled'`);
    expect(buildListPlan({ phase: 'running' }, false)).toEqual({
      query: `WorkflowType = 'orchestratorWorkflow' AND ParentWorkflowId IS NULL AND ExecutionStatus = 'Running'`,
    });
  });

  it('counts a run with a pending gate as awaiting approval', () => {
    expect(phaseMatches({ phase: 'planning', pendingGates: [{} as never] }, 'awaiting-approval')).toBe(true);
    expect(phaseMatches({ phase: 'planning', pendingGates: [] }, 'awaiting-approval')).toBe(false);
    expect(phaseMatches({ phase: 'executing', pendingGates: [] }, 'executing')).toBe(true);
  });
});
