/**
 * Shapes of the simulated Boss's plans and the mapping of wanted roles onto the roles a run
 * actually has (plans may only use roles of the schema's enum).
 */
/** A ticket as the plan schema wants it. */
export interface SimTicket {
  id: string;
  role: string;
  title: string;
  spec: string;
  acceptanceCriteria: string[];
  dependsOn: string[];
  /** Repo runs: the paths the ticket may change (null or absent otherwise). */
  changes?: string[] | null;
  /** Repo runs: the paths the ticket's worker must read. */
  reads?: string[] | null;
}

/** A plan as the plan schema wants it. */
export interface SimPlan {
  summary: string;
  tickets: SimTicket[];
}

/** Roles assumed when neither the schema nor the prompt names any. */
export const DEFAULT_SIM_ROLES = ['designer', 'writer', 'coder', 'tester'];

const FALLBACKS: Record<string, string[]> = {
  designer: ['designer', 'coder', 'writer', 'tester'],
  writer: ['writer', 'designer', 'coder', 'tester'],
  coder: ['coder', 'designer', 'writer', 'tester'],
  tester: ['tester', 'coder', 'writer', 'designer'],
};

/** The allowed role that best stands in for `wanted`. */
export function mapRole(wanted: string, roles: readonly string[]): string {
  for (const r of FALLBACKS[wanted] ?? [wanted]) if (roles.includes(r)) return r;
  return roles[0] ?? wanted;
}
