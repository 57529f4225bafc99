/** Every workflow the Maestro worker registers (the bundler's entry point). */
export { orchestratorWorkflow } from './orchestrator';
export { ticketWorkflow } from './ticket';
export { exportArtifactsWorkflow } from './export-artifacts';
export { agentLoopWorkflow } from './agent-loop';
