/**
 * `maestro doctor`: checks the configured model endpoint the way a user would before a long run
 * — reachable, key accepted, every role's model listed, which structured-output mode works for
 * each distinct model (one tiny priced probe each), tool calls where its roles are agents, and its
 * speed against the call timeout (capability-checks.ts) — and says what to fix. The probes go
 * through the same `StructuredLlm` a run uses, so they meet the same fallbacks and refusals.
 */
import { ApplicationFailure } from '@temporalio/common';
import OpenAI from 'openai';
import { z } from 'zod';
import { ProviderMemory, type Adaptation } from '../../activities/llm/adaptations';
import { createOpenAiClient, endpointOf, keyVariableOf, type LlmSettings } from '../../activities/llm/client';
import { redactUrlsDeep } from '../../shared/redact-url';
import { llmSettingsOf } from '../../activities/llm/settings-of';
import { StructuredLlm } from '../../activities/llm/structured';
import { DEFAULT_MODEL, type MaestroConfig } from '../../config';
import { BOSS_ROLE } from '../../shared/roles';
import { browserSetupProblem, pageCheckingRoles } from '../../activities/tools/browser-check';
import { chromiumPath } from '../../activities/tools/check-page';
import { capabilityChecks } from './capability-checks';
import { runCliChecks, type CliCheckOptions } from './cli-checks';

/**
 * What to do about a model the endpoint does not list. When it is Maestro's built-in default
 * because MAESTRO_MODEL is unset (the usual first try against a local or other-vendor endpoint),
 * it says so and gives the variable to set with a model the endpoint lists.
 */
export function unlistedModelFix(
  model: string,
  roles: string[],
  listed: string[],
  env: NodeJS.ProcessEnv = process.env,
): string {
  const example = listed[0];
  if (model === DEFAULT_MODEL && !env.MAESTRO_MODEL?.trim())
    return (
      `MAESTRO_MODEL is not set, so ${roles.join(', ')} use Maestro's default model ${DEFAULT_MODEL}, which this endpoint does not list: ` +
      (example
        ? `set MAESTRO_MODEL=${example} (or another listed model) and run \`maestro doctor\` again`
        : 'set MAESTRO_MODEL to a model the endpoint serves')
    );
  return `set "model" of ${roles.join(', ')} in maestro.config.json (or MAESTRO_MODEL) to a listed model`;
}

/** How one check ended. */
export type CheckStatus = 'ok' | 'warn' | 'fail';

/** One line of the doctor's report. */
export interface DoctorCheck {
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to do about a warning or failure. */
  fix?: string;
}

/** The probe of one model: which mode answered, what was adapted, and what it cost. */
export interface ModelProbe {
  model: string;
  roles: string[];
  ok: boolean;
  mode?: string;
  adaptations: string[];
  calls: number;
  promptTokens: number;
  completionTokens: number;
  usd: number;
  /** True when the provider sent no usage and the tokens are estimates. */
  estimated: boolean;
  error?: string;
  /** Whether a tool call came back as asked (absent: no role of this model calls tools). */
  toolCalls?: boolean;
  /** Measured output speed (absent: not measured). */
  tokensPerSecond?: number;
}

/** Everything `maestro doctor` found. */
export interface DoctorReport {
  ok: boolean;
  endpoint: string;
  simulated: boolean;
  checks: DoctorCheck[];
  probes: ModelProbe[];
}

/** The probe's answer: tiny, so a probe costs a fraction of a cent. */
const ProbeAnswer = z.object({ status: z.enum(['ok']), model: z.string().min(1).max(80) });

/** The models the configuration uses, each with the roles (Boss included) that use it. */
export function modelsOf(config: MaestroConfig): Map<string, string[]> {
  const models = new Map<string, string[]>();
  const add = (model: string, role: string) => models.set(model, [...(models.get(model) ?? []), role]);
  add(config.boss.model, BOSS_ROLE);
  for (const r of config.roles) add(r.model ?? config.llm.workerModel, r.name);
  return models;
}

function describeAdaptation(a: Adaptation): string[] {
  return [
    ...(a.mode ? [`structured output falls back to "${a.mode}"`] : []),
    ...(a.dropTemperature ? ['"temperature" is refused and left out'] : []),
    ...(a.tokenParam ? [`output limit sent as "${a.tokenParam}"`] : []),
  ];
}

async function listModels(
  settings: LlmSettings,
): Promise<{ checks: DoctorCheck[]; models?: string[]; fatal: boolean }> {
  const endpoint = endpointOf(settings);
  try {
    const page = await createOpenAiClient(settings).models.list();
    const ids = page.data.map((m) => m.id);
    return {
      checks: [
        { name: 'endpoint reachable', status: 'ok', detail: endpoint },
        { name: 'API key accepted', status: 'ok', detail: `GET /models listed ${ids.length} model(s)` },
      ],
      models: ids,
      fatal: false,
    };
  } catch (err) {
    if (err instanceof OpenAI.APIConnectionError)
      return {
        checks: [
          {
            name: 'endpoint reachable',
            status: 'fail',
            detail: `no answer from ${endpoint} (${err.message})`,
            fix: 'start the server or fix OPENAI_BASE_URL (it usually ends in /v1)',
          },
        ],
        fatal: true,
      };
    const reachable: DoctorCheck = { name: 'endpoint reachable', status: 'ok', detail: endpoint };
    if (err instanceof OpenAI.APIError && (err.status === 401 || err.status === 403))
      return {
        checks: [
          reachable,
          {
            name: 'API key accepted',
            status: 'fail',
            detail: err.message, // the SDK's message starts with the status
            fix: `set ${keyVariableOf(settings)} to a valid key for ${endpoint}`,
          },
        ],
        fatal: true,
      };
    const detail = err instanceof Error ? err.message : String(err);
    return {
      checks: [
        reachable,
        {
          name: 'model list',
          status: 'warn',
          detail: `GET /models is not offered (${detail}); models and key are checked by the probes instead`,
        },
      ],
      fatal: false,
    };
  }
}

async function probe(
  settings: LlmSettings,
  config: MaestroConfig,
  model: string,
  roles: string[],
): Promise<ModelProbe> {
  const memory = new ProviderMemory();
  const llm = new StructuredLlm({ ...settings, memory });
  const role = config.roles.find((r) => roles.includes(r.name) && (r.temperature !== undefined || r.maxTokens));
  const boss = roles.includes(BOSS_ROLE) ? config.boss : undefined;
  const temperature = role?.temperature ?? boss?.temperature;
  const result: ModelProbe = {
    model,
    roles,
    ok: false,
    adaptations: [],
    calls: 0,
    promptTokens: 0,
    completionTokens: 0,
    usd: 0,
    estimated: false,
  };
  try {
    await llm.call({
      model,
      prompt: {
        system: 'You are a connectivity probe. Answer with the JSON object asked for and nothing else.',
        user: `Answer {"status": "ok", "model": "<your model name>"}.`,
      },
      schema: ProbeAnswer,
      schemaName: 'maestro_doctor_probe',
      label: `doctor probe of ${model}`,
      ...(temperature !== undefined ? { temperature } : {}),
      // A limit large enough for reasoning models to think before the few tokens of the answer.
      maxTokens: Math.max(role?.maxTokens ?? 0, boss?.maxTokens ?? 0, 2048),
      onCall: (c) => {
        result.calls += 1;
        result.promptTokens += c.promptTokens;
        result.completionTokens += c.completionTokens;
        result.usd += c.usd;
        result.estimated ||= c.estimated === true;
        if (!c.error && c.outputMode) result.mode = c.outputMode;
      },
    });
    result.ok = true;
  } catch (err) {
    result.error = err instanceof ApplicationFailure || err instanceof Error ? err.message : String(err);
  }
  result.usd = Math.round(result.usd * 1e6) / 1e6;
  result.adaptations = describeAdaptation(memory.get(endpointOf(settings), model));
  return result;
}

/** Whether the browser of `check_page` starts here, when a role uses it (undefined: no role does). */
async function browserCheck(config: MaestroConfig): Promise<DoctorCheck | undefined> {
  const roles = pageCheckingRoles(config.roles);
  if (roles.length === 0) return undefined;
  const problem = await browserSetupProblem(roles);
  const name = 'browser for check_page';
  if (!problem) return { name, status: 'ok', detail: `Chromium at ${chromiumPath()} starts (${roles.join(', ')})` };
  const [detail, fix] = problem.split(/ (?=Install Chromium)/);
  return { name, status: 'fail', detail: detail ?? problem, fix: fix ?? problem };
}

/**
 * Runs every check against the configured endpoint, the browser check when a role checks
 * pages, and the coding-agent CLI checks of roles with an `executor`. Every URL in the report is redacted (errors of the SDK and of fetch quote the request
 * URL, credentials included).
 */
export async function runDoctor(config: MaestroConfig, opts: CliCheckOptions = {}): Promise<DoctorReport> {
  return redactUrlsDeep(await doctorReport(config, opts));
}

async function doctorReport(config: MaestroConfig, opts: CliCheckOptions): Promise<DoctorReport> {
  const browser = await browserCheck(config);
  const report = await runEndpointChecks(config);
  // Roles worked by a coding-agent CLI: found, version, and a tiny prompt through the gateway.
  const extra = [...(browser ? [browser] : []), ...(await runCliChecks(config, opts))];
  if (extra.length === 0) return report;
  return { ...report, ok: report.ok && extra.every((c) => c.status !== 'fail'), checks: [...report.checks, ...extra] };
}

async function runEndpointChecks(config: MaestroConfig): Promise<DoctorReport> {
  const settings = llmSettingsOf(config);
  const endpoint = endpointOf(settings);
  if (config.llm.simulated)
    return {
      ok: true,
      endpoint: 'simulated',
      simulated: true,
      checks: [
        {
          name: 'provider',
          status: 'warn',
          detail: 'no OPENAI_API_KEY, OPENAI_BASE_URL or AZURE_OPENAI_ENDPOINT is set: runs use the simulated LLM',
          fix: 'set OPENAI_BASE_URL (and OPENAI_API_KEY) to check a real provider',
        },
      ],
      probes: [],
    };
  const listed = await listModels(settings);
  const checks = [...listed.checks];
  const models = modelsOf(config);
  const probes: ModelProbe[] = [];
  if (!listed.fatal) {
    for (const [model, roles] of models) {
      if (listed.models && !listed.models.includes(model))
        checks.push({
          name: `model ${model}`,
          status: 'fail',
          detail: `not listed by ${endpoint} (used by ${roles.join(', ')}); listed: ${listed.models.slice(0, 10).join(', ')}`,
          fix: unlistedModelFix(model, roles, listed.models),
        });
      else if (listed.models)
        checks.push({ name: `model ${model}`, status: 'ok', detail: `listed (${roles.join(', ')})` });
      const p = await probe(settings, config, model, roles);
      probes.push(p);
      const capabilities = p.ok ? await capabilityChecks(settings, config, model, roles, p) : [];
      checks.push(
        p.ok
          ? {
              name: `structured output of ${model}`,
              status: p.adaptations.length > 0 ? 'warn' : 'ok',
              detail: `mode ${p.mode ?? '?'} works${p.adaptations.length > 0 ? `; ${p.adaptations.join('; ')}` : ''}`,
              ...(p.adaptations.length > 0
                ? {
                    fix: `Maestro adapts by itself; to skip the refused request, set "llm": {"outputMode": "${p.mode}"} in maestro.config.json`,
                  }
                : {}),
            }
          : {
              name: `structured output of ${model}`,
              status: 'fail',
              detail: p.error ?? 'the probe failed',
              fix: 'choose a model that can answer in JSON, or set "outputMode" for its roles',
            },
        ...capabilities,
      );
    }
  }
  return { ok: checks.every((c) => c.status !== 'fail'), endpoint, simulated: false, checks, probes };
}
