/** Gate policies of a run, from its input with documented defaults (wait for a person). */
import type { GateKind, RunInput } from '../shared/types';
import type { GatePolicy } from './gates';

/** The timeout policy of one gate kind for this run. */
export function gatePolicy(input: RunInput, kind: GateKind): GatePolicy {
  const p = input.gatePolicies?.[kind];
  return { timeoutMs: p?.timeoutMs, onTimeout: p?.onTimeout ?? 'wait' };
}
