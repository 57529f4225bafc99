/**
 * Prepares an existing Temporal cluster for Maestro: the namespace exists and Maestro's search
 * attributes are registered on it. The dev server gets both at launch; a real cluster needs this
 * once (`maestro setup`). Every step is idempotent and reported, so running it again is safe.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from '@temporalio/client';
import { msNumberToTs } from '@temporalio/common/lib/time';
import { MAESTRO_SEARCH_ATTRIBUTES, type SearchAttributeType } from '../shared/constants';
import {
  checkSearchAttributes,
  createSearchAttributeCommand,
  GRPC_NOT_FOUND,
  GRPC_PERMISSION_DENIED,
  GRPC_UNIMPLEMENTED,
  grpcCode,
  INDEXED_VALUE_TYPES,
} from './search-attributes';

/** What `maestro setup` should do. */
export interface ClusterSetupOptions {
  namespace: string;
  /** Retention of closed runs when the namespace has to be created. */
  retentionDays: number;
  /** Search attributes to ensure (default: Maestro's). */
  searchAttributes?: Readonly<Record<string, SearchAttributeType>>;
  /** How long to wait for a just-created namespace to become usable; default 60 s. */
  activationTimeoutMs?: number;
  log: (line: string) => void;
}

/** What setup found and did, for people (`log`) and scripts (the return value). */
export interface ClusterSetupReport {
  namespace: { name: string; action: 'created' | 'exists'; retentionDays?: number };
  searchAttributes: { name: string; type: SearchAttributeType; action: 'registered' | 'exists' }[];
}

/** A problem setup cannot solve by itself; the message says what the person should do. */
export class ClusterSetupError extends Error {
  override name = 'ClusterSetupError';
}

/** Ensures the namespace and Maestro's search attributes exist. */
export async function setupCluster(client: Client, opts: ClusterSetupOptions): Promise<ClusterSetupReport> {
  const wanted = opts.searchAttributes ?? MAESTRO_SEARCH_ATTRIBUTES;
  const namespace = await ensureNamespace(client, opts);
  const check = await untilNamespaceActive(opts, () => checkSearchAttributes(client, opts.namespace, wanted));
  if (check.conflicting.length > 0) {
    const lines = check.conflicting.map((c) => `${c.name} is registered as ${c.actual}, Maestro needs ${c.wanted}`);
    throw new ClusterSetupError(
      `Search attributes with the wrong type on namespace ${opts.namespace}: ${lines.join('; ')}. ` +
        'Temporal cannot change the type of an attribute: remove it (`temporal operator search-attribute remove`) and run `maestro setup` again, or use another namespace.',
    );
  }
  const missing = Object.fromEntries(check.missing.map((n) => [n, INDEXED_VALUE_TYPES[wanted[n]!]]));
  if (check.missing.length > 0) {
    try {
      await untilNamespaceActive(opts, () =>
        client.connection.withDeadline(Date.now() + 30_000, () =>
          client.connection.operatorService.addSearchAttributes({
            namespace: opts.namespace,
            searchAttributes: missing,
          }),
        ),
      );
    } catch (err) {
      if (grpcCode(err) === GRPC_PERMISSION_DENIED || grpcCode(err) === GRPC_UNIMPLEMENTED) {
        const commands = check.missing.map((n) => `  ${createSearchAttributeCommand(opts.namespace, n, wanted[n]!)}`);
        throw new ClusterSetupError(
          `This server does not let this client register search attributes (${(err as Error).message}). ` +
            `Register them with an admin identity, or in Temporal Cloud's UI / tcld, then run \`maestro setup\` again:\n${commands.join('\n')}`,
        );
      }
      throw err;
    }
  }
  const searchAttributes = Object.entries(wanted).map(([name, type]) => ({
    name,
    type,
    action: check.missing.includes(name) ? ('registered' as const) : ('exists' as const),
  }));
  for (const sa of searchAttributes) {
    opts.log(`  ${sa.name} (${sa.type}): ${sa.action === 'registered' ? 'registered' : 'already registered'}`);
  }
  return { namespace, searchAttributes };
}

async function ensureNamespace(client: Client, opts: ClusterSetupOptions): Promise<ClusterSetupReport['namespace']> {
  const { namespace } = opts;
  try {
    const desc = await client.connection.withDeadline(Date.now() + 10_000, () =>
      client.workflowService.describeNamespace({ namespace }),
    );
    const seconds = Number(desc.config?.workflowExecutionRetentionTtl?.seconds ?? 0);
    const retentionDays = seconds > 0 ? Math.round((seconds / 86_400) * 10) / 10 : undefined;
    opts.log(
      `Namespace ${namespace}: exists${retentionDays !== undefined ? ` (retention ${retentionDays} days)` : ''}; left as it is.`,
    );
    return { name: namespace, action: 'exists', retentionDays };
  } catch (err) {
    if (grpcCode(err) !== GRPC_NOT_FOUND) throw err;
  }
  try {
    await client.connection.withDeadline(Date.now() + 30_000, () =>
      client.workflowService.registerNamespace({
        namespace,
        description: 'Maestro runs (registered by `maestro setup`)',
        workflowExecutionRetentionPeriod: msNumberToTs(opts.retentionDays * 86_400_000),
      }),
    );
  } catch (err) {
    if (grpcCode(err) === GRPC_PERMISSION_DENIED) {
      throw new ClusterSetupError(
        `Namespace ${namespace} does not exist and this client may not create it (${(err as Error).message}). ` +
          'Create it with an admin identity (`temporal operator namespace create`) or in Temporal Cloud, then run `maestro setup` again.',
      );
    }
    throw err;
  }
  opts.log(`Namespace ${namespace}: created with a retention of ${opts.retentionDays} days.`);
  return { name: namespace, action: 'created', retentionDays: opts.retentionDays };
}

/** A new namespace takes a few seconds to reach every server component: retry NOT_FOUND meanwhile. */
async function untilNamespaceActive<T>(opts: ClusterSetupOptions, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + (opts.activationTimeoutMs ?? 60_000);
  let told = false;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      const notYet = grpcCode(err) === GRPC_NOT_FOUND;
      if (!notYet || Date.now() > deadline) throw err;
      if (!told) opts.log(`  waiting for namespace ${opts.namespace} to become active...`);
      told = true;
      await sleep(1000);
    }
  }
}
