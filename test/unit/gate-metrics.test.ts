/**
 * The labels of `maestro_gate_wait_seconds`: who decided a gate, as a small fixed set (never a
 * person's name), and `--yes` told apart from a person by the suffix the CLI signs with.
 */
import { YES_DECIDER_SUFFIX } from '../../src/shared/constants';
import { deciderOf } from '../../src/workflows/gate-metrics';

describe('gate wait metric labels', () => {
  it('classifies who decided a gate', () => {
    expect(deciderOf('ana')).toBe('person');
    expect(deciderOf(`ana${YES_DECIDER_SUFFIX}`)).toBe('yes');
    expect(deciderOf('timeout-policy')).toBe('timeout-policy');
    expect(deciderOf('maestro')).toBe('maestro');
  });
});
