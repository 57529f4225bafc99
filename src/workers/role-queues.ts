/**
 * Which workers a process runs. The main worker hosts the workflows, the Boss and every role
 * without a queue of its own; a role with its own queue gets activity-only workers, so a fleet
 * can scale one role on its own machines (`maestro worker --roles coder`).
 */
import { ConfigError, type MaestroConfig } from '../config';
import type { RoleDefinition } from '../shared/roles';

/** What one process polls: everything (`maestro run`/`dev`), the main queue, or some roles' queues. */
export type QueueSelection = 'all' | 'main' | { roles: readonly string[] };

/** One worker to create. */
export interface WorkerSpec {
  taskQueue: string;
  /** 'main': workflows + all activities; 'roles': only the work activity of `roles`. */
  kind: 'main' | 'roles';
  roles: RoleDefinition[];
}

/** Parses `--roles coder,tester` into names (trimmed, unique, non-empty). */
export function parseRoleList(text: string): string[] {
  return [...new Set(text.split(',').map((s) => s.trim().toLowerCase()))].filter((s) => s.length > 0);
}

/** The workers for a selection; throws ConfigError (saying what to change) for unusable roles. */
export function planWorkers(config: MaestroConfig, selection: QueueSelection): WorkerSpec[] {
  const main: WorkerSpec = { taskQueue: config.temporal.taskQueue, kind: 'main', roles: config.roles };
  if (selection === 'main') return [main];
  const wanted =
    selection === 'all' ? config.roles.filter((r) => r.taskQueue) : selection.roles.map((n) => roleNamed(config, n));
  if (selection !== 'all' && wanted.length === 0) throw new ConfigError('--roles: name at least one role');
  const byQueue = new Map<string, RoleDefinition[]>();
  for (const role of wanted) {
    const queue = role.taskQueue;
    if (!queue) {
      throw new ConfigError(
        `--roles ${role.name}: role "${role.name}" has no task queue of its own, so its tickets run on the main queue "${config.temporal.taskQueue}" (plain \`maestro worker\`). Give it one in ${config.configFile ?? 'maestro.config.json'}: {"name": "${role.name}", "taskQueue": true}.`,
      );
    }
    if (queue === config.temporal.taskQueue) continue; // served by the main worker
    byQueue.set(queue, [...(byQueue.get(queue) ?? []), role]);
  }
  const roleWorkers = [...byQueue].map(([taskQueue, roles]): WorkerSpec => ({ taskQueue, kind: 'roles', roles }));
  return selection === 'all' ? [main, ...roleWorkers] : roleWorkers;
}

function roleNamed(config: MaestroConfig, name: string): RoleDefinition {
  const role = config.roles.find((r) => r.name === name);
  if (!role)
    throw new ConfigError(
      `--roles: unknown role "${name}"; configured roles: ${config.roles.map((r) => r.name).join(', ')}`,
    );
  return role;
}
