/**
 * Gate ids (`plan#2`, `ticket:T3#5`) as the run makes them and decisions name them: shared by the
 * workflow (to validate decisions) and the CLI (to validate `--gate`).
 */
import { z } from 'zod';
import type { GateKind } from './types';

/** Gate kinds as they appear on the wire. */
export const GATE_KINDS: readonly GateKind[] = ['plan', 'ticket', 'final', 'budget'];

/** Shape of a gate id: kind, the ticket for ticket gates, and the run's gate sequence number. */
export const GATE_ID_PATTERN = /^(plan|ticket|final|budget)(:T\d{1,3})?#\d{1,6}$/;

/** A gate id as the status shows it: names exactly one gate a person saw. */
export const GateId = z
  .string()
  .max(40)
  .regex(GATE_ID_PATTERN, 'a gate id looks like plan#2 or ticket:T3#5 (see `maestro status`)');
export type GateId = z.infer<typeof GateId>;

/** Whether `gate` (a decision's `gate` field) names a kind rather than one gate. */
export function isGateKind(gate: string): gate is GateKind {
  return (GATE_KINDS as readonly string[]).includes(gate);
}
