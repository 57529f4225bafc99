/**
 * Deterministic answers of the simulated model: picks the generator by the `response_format`
 * schema name (SCHEMA_NAMES) and falls back to a minimal schema-valid value for unknown
 * schemas. Holds the little per-server state answers depend on (the invalid-plan counters).
 */
import { SCHEMA_NAMES } from '../../shared/constants';
import { hostilePlan, hostileReport, hostileReview, hostileWork, wantsHostile } from './hostile';
import { isObject } from './http-util';
import { sampleFromSchema, resolveRef } from './json-schema-sample';
import { planFor, withCycle } from './plan';
import { repoWorkResult } from './repo-agent';
import { repoPlanFor } from './repo-plan';
import { isRepoPrompt } from './repo-prompt';
import { isRepoReview, repoReviewFor } from './repo-review';
import type { SimPlan } from './plan-types';
import { goalOf, maxTicketsOf, rolesListed } from './prompt-parse';
import { finalReportFor, reviewFor } from './review';
import { directivesOf } from './subject';
import { workResultFor } from './work';

/** What the content generators get from a chat request. */
export interface AnswerInput {
  schemaName: string;
  /** The JSON schema of `response_format`, when one was sent. */
  schema?: unknown;
  system: string;
  user: string;
}

/** The role enum of a plan JSON schema (`tickets.items.role.enum`), if it has one. */
export function rolesFromPlanSchema(schema: unknown): string[] {
  if (!isObject(schema)) return [];
  const step = (s: unknown, key: 'properties' | 'items', name?: string): unknown => {
    if (!isObject(s)) return undefined;
    const r = resolveRef(schema, s);
    const v = r[key];
    if (name === undefined) return isObject(v) ? resolveRef(schema, v) : undefined;
    const child = isObject(v) ? v[name] : undefined;
    return isObject(child) ? resolveRef(schema, child) : undefined;
  };
  const role = step(step(step(schema, 'properties', 'tickets'), 'items'), 'properties', 'role');
  const values = isObject(role) && Array.isArray(role.enum) ? role.enum : [];
  return values.filter((v): v is string => typeof v === 'string');
}

/** Generates answers; one instance per server so counters do not leak between servers. */
export class SimContent {
  private readonly invalidPlans = new Map<string, number>();

  /** The answer value (to be sent as JSON) for a request. */
  answer(input: AnswerInput): unknown {
    // `[sim:hostile=1]` in the prompt (the goal, or a spec of a hostile plan): hostile free text.
    const hostile = wantsHostile(input.user);
    switch (input.schemaName) {
      case SCHEMA_NAMES.plan: {
        const plan = this.plan(input);
        return hostile ? hostilePlan(plan) : plan;
      }
      case SCHEMA_NAMES.work: {
        const work = isRepoPrompt(input.user) ? repoWorkResult(input.user) : workResultFor(input.system, input.user);
        return hostile ? hostileWork(work) : work;
      }
      case SCHEMA_NAMES.review: {
        const review = isRepoReview(input.user) ? repoReviewFor(input.user) : reviewFor(input.user);
        return hostile ? hostileReview(review) : review;
      }
      case SCHEMA_NAMES.final: {
        const report = finalReportFor(input.user);
        return hostile ? hostileReport(report) : report;
      }
      default:
        return input.schema !== undefined ? sampleFromSchema(input.schema) : { answer: 'simulated answer' };
    }
  }

  private plan(input: AnswerInput): SimPlan {
    const goal = goalOf(input.user);
    const fromSchema = rolesFromPlanSchema(input.schema);
    const roles = fromSchema.length > 0 ? fromSchema : rolesListed(input.user);
    const plan = withRepoFields(
      repoPlanFor(goal, input.user, roles) ?? planFor(goal, roles, maxTicketsOf(input.user)),
      input.schema,
    );
    const wantedInvalid = directivesOf(goal).invalidPlan ?? 0;
    const served = this.invalidPlans.get(goal) ?? 0;
    if (served < wantedInvalid) {
      this.invalidPlans.set(goal, served + 1);
      return withCycle(plan);
    }
    return plan;
  }
}

/** Whether a plan schema's tickets have a property that may be null (`changes`, `reads` of repo runs). */
function ticketSchemaNullable(schema: unknown, name: string): boolean {
  if (!isObject(schema)) return false;
  const tickets = isObject(schema.properties) ? schema.properties.tickets : undefined;
  const items = isObject(tickets) ? resolveRef(schema, tickets).items : undefined;
  const props = isObject(items) ? resolveRef(schema, items).properties : undefined;
  const prop = isObject(props) && isObject(props[name]) ? resolveRef(schema, props[name]) : undefined;
  if (!prop) return false;
  const isNull = (s: unknown) =>
    isObject(s) && (s.type === 'null' || (Array.isArray(s.type) && s.type.includes('null')));
  const list = (v: unknown): unknown[] => (Array.isArray(v) ? (v as unknown[]) : []);
  const alts = [...list(prop.anyOf), ...list(prop.oneOf)];
  return isNull(prop) || alts.some((a) => isNull(isObject(a) ? resolveRef(schema, a) : a));
}

/**
 * A plan whose tickets without `changes`/`reads` carry them as null when the schema lets them be
 * null (strict schemas make every property required), and leave them out otherwise.
 */
function withRepoFields(plan: SimPlan, schema: unknown): SimPlan {
  const nullable = { changes: ticketSchemaNullable(schema, 'changes'), reads: ticketSchemaNullable(schema, 'reads') };
  const tickets = plan.tickets.map((t) => {
    const { changes, reads, ...rest } = t;
    return {
      ...rest,
      ...(changes ? { changes } : nullable.changes ? { changes: null } : {}),
      ...(reads ? { reads } : nullable.reads ? { reads: null } : {}),
    };
  });
  return { ...plan, tickets };
}

/** The answer with its last required top-level field removed (the 'schema-invalid' fault). */
export function breakAgainstSchema(value: unknown, schema: unknown): unknown {
  if (!isObject(value)) return { unexpected: true };
  const required =
    isObject(schema) && Array.isArray(schema.required) ? (schema.required as unknown[]) : Object.keys(value);
  const victim = [...required].reverse().find((k): k is string => typeof k === 'string' && k in value);
  const copy: Record<string, unknown> = { ...value };
  if (victim) delete copy[victim];
  else copy.unexpected = true;
  return copy;
}
