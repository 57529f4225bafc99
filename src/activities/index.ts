/**
 * All activities, built from their dependencies. Workflows import only the *type* of this
 * object and reach the functions through `proxyActivities`.
 */
import { createArtifactExportActivities } from './artifacts/export';
import { createAgentActivities } from './agent/agent-activities';
import type { ActivityDeps } from './deps';
import { createExecutorActivities } from './executor/executor-activity';
import { createNotifyActivities } from './notify/deliver';
import { createRecordActivities } from './records';
import { createBossActivities } from './roles/boss';
import { createWorkerActivities } from './roles/worker';
import { createRepoTestActivities } from './repo/repo-tests';
import { createMergeActivities } from './repo/merge';

/** Creates every Maestro activity over `deps`. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createBossActivities(deps),
    ...createWorkerActivities(deps),
    ...createArtifactExportActivities(deps),
    ...createRecordActivities(deps),
    ...createNotifyActivities(deps),
    ...createAgentActivities(deps),
    ...createRepoTestActivities(deps),
    ...createMergeActivities(deps),
    ...createExecutorActivities(deps),
  };
}

/** The activity object workers register; workflows use it as a type only. */
export type MaestroActivities = ReturnType<typeof createActivities>;

export type { ActivityDeps } from './deps';
export type { PlanGoalInput, ReviewTicketInput, FinalizeRunInput } from './roles/boss';
export type { PerformTicketInput, PerformTicketOutput } from './roles/worker';
export type { RepoTestsInput } from '../shared/repo';
export type { DeliverNotificationInput } from './notify/deliver';
export type { RunExecutorInput, RunExecutorOutput } from './executor/executor-activity';
export type { AgentTurnInput, AgentTurnOutput, AgentToolInput, AgentToolOutput } from './agent/agent-activities';
