/**
 * Every workflow the Maestro worker registers (the bundler's entry point). Each one loads its
 * module when it is first called, not when this file is: the reusable V8 context evaluates the
 * entry's module graph again for every workflow that starts, so with plain re-exports each ticket
 * child also evaluated the orchestrator, scheduler, gates, epics and their zod schemas (42
 * modules) just to run its two activities. The wrappers only delegate: same names, arguments and
 * results, no extra awaits, so histories are unchanged.
 */
/* eslint-disable @typescript-eslint/no-require-imports, no-restricted-globals -- `require` of a sibling module,
   resolved by the bundler at build time (no I/O at run time), loads it on the first call (see above) */
import type * as AgentLoop from './agent-loop';
import type * as ExportArtifacts from './export-artifacts';
import type * as Orchestrator from './orchestrator';
import type * as Ticket from './ticket';

/** The run (see orchestrator.ts). */
export function orchestratorWorkflow(
  ...args: Parameters<typeof Orchestrator.orchestratorWorkflow>
): ReturnType<typeof Orchestrator.orchestratorWorkflow> {
  return (require('./orchestrator') as typeof Orchestrator).orchestratorWorkflow(...args);
}

/** One ticket (see ticket.ts). */
export function ticketWorkflow(
  ...args: Parameters<typeof Ticket.ticketWorkflow>
): ReturnType<typeof Ticket.ticketWorkflow> {
  return (require('./ticket') as typeof Ticket).ticketWorkflow(...args);
}

/** Reads a finished run's files in chunks (see export-artifacts.ts). */
export function exportArtifactsWorkflow(
  ...args: Parameters<typeof ExportArtifacts.exportArtifactsWorkflow>
): ReturnType<typeof ExportArtifacts.exportArtifactsWorkflow> {
  return (require('./export-artifacts') as typeof ExportArtifacts).exportArtifactsWorkflow(...args);
}

/** One agent attempt (see agent-loop.ts). */
export function agentLoopWorkflow(
  ...args: Parameters<typeof AgentLoop.agentLoopWorkflow>
): ReturnType<typeof AgentLoop.agentLoopWorkflow> {
  return (require('./agent-loop') as typeof AgentLoop).agentLoopWorkflow(...args);
}
