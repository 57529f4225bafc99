/**
 * What `maestro doctor` checks beyond "the endpoint answers JSON": what the configured roles need
 * of the model. Agent roles (tools, MCP servers, coding-agent CLIs) need tool calls, so one tiny
 * request offers a tool with `tool_choice: "required"` and must come back as a call of it (an
 * endpoint that ignores `tools` answers text, and agents could never call a tool there). And the
 * measured speed: one short generation gives tokens per second, and a configured output cap that
 * takes longer than the call timeout at that speed is named with the settings to change. Both
 * probes are priced like every call, so the doctor's bill stays honest.
 */
import OpenAI from 'openai';
import { adjustmentFor, type TokenLimitParam } from '../../activities/llm/adaptations';
import { createOpenAiClient, endpointOf, type LlmSettings } from '../../activities/llm/client';
import { costOf, priceTable } from '../../activities/llm/pricing';
import { MAX_CALL_TOKENS } from '../../activities/llm/usage-of';
import type { MaestroConfig } from '../../config';
import { BOSS_ROLE } from '../../shared/roles';
import type { CheckStatus, DoctorCheck, ModelProbe } from './checks';
import { cliText } from './cli-checks';

/** What the capability probes of one model spent (added to its ModelProbe). */
export interface ProbeSpend {
  calls: number;
  promptTokens: number;
  completionTokens: number;
  usd: number;
  /** True when a probe got no usage from the provider (its tokens are then not counted). */
  noUsage: boolean;
}

/** The tool the tool-call probe offers: one required enum argument, so any engine can answer it. */
const PROBE_TOOL: OpenAI.ChatCompletionFunctionTool = {
  type: 'function',
  function: {
    name: 'report_status',
    description: 'Reports that the check succeeded.',
    parameters: {
      type: 'object',
      properties: { status: { type: 'string', enum: ['ok'] } },
      required: ['status'],
      additionalProperties: false,
    },
  },
};

/** Output tokens of the speed probe: enough for a stable rate, few enough to cost nothing. */
export const SPEED_PROBE_TOKENS = 48;

/** The roles of `model` that call tools: agents (built-in tools or MCP) and coding-agent CLIs. */
export function toolRolesOf(config: MaestroConfig, roles: readonly string[]): string[] {
  return config.roles
    .filter((r) => roles.includes(r.name) && (r.agent !== undefined || r.executor !== undefined))
    .map((r) => r.name);
}

/** The output-token parameter to send first (as StructuredLlm decides it). */
function tokenParamOf(settings: LlmSettings): TokenLimitParam {
  const official = settings.provider === 'azure' || endpointOf(settings).includes('api.openai.com');
  return settings.tokenParam ?? (official ? 'max_completion_tokens' : 'max_tokens');
}

const capOf = (param: TokenLimitParam, tokens: number) =>
  param === 'max_tokens' ? { max_tokens: tokens } : { max_completion_tokens: tokens };

/**
 * One probe request with an output cap. A 400 refusing the cap's parameter (OpenAI's reasoning
 * models refuse `max_tokens`, some servers `max_completion_tokens`) is retried once with the
 * other, as runs do (adaptations.ts); the refused request is billed as a call.
 */
async function complete(
  settings: LlmSettings,
  params: Omit<OpenAI.ChatCompletionCreateParamsNonStreaming, 'max_tokens' | 'max_completion_tokens'>,
  tokens: number,
  spent: ProbeSpend,
): Promise<OpenAI.ChatCompletion> {
  const client = createOpenAiClient(settings);
  const first = tokenParamOf(settings);
  try {
    return await client.chat.completions.create({ ...params, ...capOf(first, tokens) });
  } catch (err) {
    const other = adjustmentFor(err, { mode: 'text', temperature: false, tokenParam: first })?.patch.tokenParam;
    if (!other) throw err;
    spend(settings, params.model, spent);
    return await client.chat.completions.create({ ...params, ...capOf(other, tokens) });
  }
}

function spend(settings: LlmSettings, model: string, into: ProbeSpend, completion?: OpenAI.ChatCompletion): void {
  into.calls += 1;
  const usage: unknown = completion?.usage;
  // More than one call can use (as runs cap it) is nonsense, not a bill.
  const count = (v: unknown) =>
    typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= MAX_CALL_TOKENS ? v : undefined;
  const prompt = isObject(usage) ? count(usage.prompt_tokens) : undefined;
  const output = isObject(usage) ? count(usage.completion_tokens) : undefined;
  if (!completion || prompt === undefined || output === undefined) {
    into.noUsage ||= completion !== undefined;
    return;
  }
  const details = isObject(usage) && isObject(usage.prompt_tokens_details) ? usage.prompt_tokens_details : {};
  const tokens = {
    promptTokens: prompt,
    cachedTokens: Math.min(prompt, count(details.cached_tokens) ?? 0),
    completionTokens: output,
  };
  into.promptTokens += tokens.promptTokens;
  into.completionTokens += tokens.completionTokens;
  const answered = typeof completion.model === 'string' && completion.model ? completion.model : model;
  into.usd += costOf(answered, tokens, settings.prices ?? priceTable());
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** One line of untrusted model or provider text: no control or bidi characters, at most 80 characters. */
const clip = (text: string): string => cliText(text, 80);

/** What the answer to the tool probe holds, read defensively (a server may send any shape). */
function answerOf(completion: unknown): { call?: { name: string; args: string }; text: string } {
  const choices = isObject(completion) && Array.isArray(completion.choices) ? (completion.choices as unknown[]) : [];
  const message = isObject(choices[0]) && isObject(choices[0].message) ? choices[0].message : {};
  const text = typeof message.content === 'string' ? message.content : '';
  const calls = Array.isArray(message.tool_calls) ? (message.tool_calls as unknown[]) : [];
  const fn = calls.map((c) => (isObject(c) && isObject(c.function) ? c.function : undefined)).find(Boolean);
  if (!fn) return { text };
  const str = (v: unknown) => (typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v));
  return { call: { name: str(fn.name), args: str(fn.arguments) }, text };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The probe request; `choice` is what agents rely on ("required"), else "auto" where that is refused. */
function toolProbe(settings: LlmSettings, model: string, choice: 'required' | 'auto', spent: ProbeSpend) {
  return complete(
    settings,
    {
      model,
      messages: [
        { role: 'system', content: 'You are a connectivity probe. Call the tool you are given; write no text.' },
        { role: 'user', content: 'Call report_status with status "ok".' },
      ],
      tools: [PROBE_TOOL],
      tool_choice: choice,
    },
    64,
    spent,
  );
}

/**
 * Tool calling for the agent roles of `model`: a request offering one tool, with
 * `tool_choice: "required"` (or "auto" on a server that refuses "required"), must come back as a
 * call of that tool with JSON arguments. Never a named tool choice: a server that serves tools
 * only when one is forced would pass, and agents (which send "auto") could still never call one.
 */
export async function toolCallCheck(
  settings: LlmSettings,
  model: string,
  agentRoles: readonly string[],
  spent: ProbeSpend,
): Promise<DoctorCheck> {
  const name = `tool calls of ${model}`;
  const who = agentRoles.join(', ');
  const fix = `serve ${model} with tool calling turned on (e.g. llama.cpp's server needs --jinja; vLLM --enable-auto-tool-choice), or give ${who} a model that calls tools ("model" of the role in maestro.config.json)`;
  let completion: OpenAI.ChatCompletion;
  try {
    try {
      completion = await toolProbe(settings, model, 'required', spent);
    } catch (err) {
      if (!(err instanceof OpenAI.APIError && err.status === 400 && /tool_choice/.test(err.message))) throw err;
      spend(settings, model, spent);
      completion = await toolProbe(settings, model, 'auto', spent);
    }
  } catch (err) {
    spend(settings, model, spent);
    const refused = err instanceof OpenAI.APIError && err.status >= 400 && err.status < 500;
    return {
      name,
      status: 'fail',
      detail: `${refused ? 'the endpoint refused a request with tools' : 'the tool-call probe failed'} (needed by ${who}): ${clip(messageOf(err))}`,
      fix,
    };
  }
  spend(settings, model, spent, completion);
  const { call, text } = answerOf(completion);
  if (!call)
    return {
      name,
      status: 'fail',
      detail: `asked to call a tool, the model answered with text (${text ? `"${clip(text)}"` : 'nothing'}): ${who} could never call a tool on this endpoint`,
      fix,
    };
  let args: unknown;
  try {
    args = JSON.parse(call.args || '{}');
  } catch {
    args = undefined;
  }
  if (call.name !== PROBE_TOOL.function.name || !isObject(args))
    return {
      name,
      status: 'warn',
      detail: `the model called a tool, but not as asked: ${clip(`${call.name}(${call.args})`)}`,
      fix: `the model may call tools wrongly in runs of ${who}; watch its first run, or choose a model that follows tool schemas`,
    };
  return { name, status: 'ok', detail: `${PROBE_TOOL.function.name} was called as asked (${who})` };
}

/** The output caps of the roles (Boss included) that use `model`, largest first. */
function capsOf(config: MaestroConfig, roles: readonly string[]): { role: string; maxTokens?: number }[] {
  return roles
    .map((role) => ({
      role,
      maxTokens: role === BOSS_ROLE ? config.boss.maxTokens : config.roles.find((r) => r.name === role)?.maxTokens,
    }))
    .sort((a, b) => (b.maxTokens ?? Infinity) - (a.maxTokens ?? Infinity));
}

/** Where a role's output cap is set, as a user changes it. */
function capSetting(role: string): string {
  return role === BOSS_ROLE ? '"boss": {"maxTokens": …}' : `"maxTokens" of role ${role}`;
}

/**
 * The measured speed of `model` (a short generation's completion tokens per second, prompt time
 * included, so it errs on the slow side) against the call timeout: a configured output cap that
 * cannot be written within MAESTRO_LLM_TIMEOUT_MS at that speed is a warning naming both settings.
 */
export async function speedCheck(
  settings: LlmSettings,
  config: MaestroConfig,
  model: string,
  roles: readonly string[],
  spent: ProbeSpend,
): Promise<DoctorCheck & { tokensPerSecond?: number }> {
  const name = `speed of ${model}`;
  const t0 = Date.now();
  let completion: OpenAI.ChatCompletion;
  try {
    completion = await complete(
      settings,
      { model, messages: [{ role: 'user', content: 'Count from 1 to 100, separated by commas.' }] },
      SPEED_PROBE_TOKENS,
      spent,
    );
  } catch (err) {
    spend(settings, model, spent);
    return {
      name,
      status: 'warn',
      detail: `could not be measured: ${clip(messageOf(err))}`,
      fix: 'see the checks above; the timeouts are not checked against the speed',
    };
  }
  const seconds = Math.max(0.001, (Date.now() - t0) / 1000);
  spend(settings, model, spent, completion);
  const usage: unknown = completion.usage;
  const tokens = isObject(usage) ? usage.completion_tokens : undefined;
  if (typeof tokens !== 'number' || !Number.isSafeInteger(tokens) || tokens <= 0 || tokens > MAX_CALL_TOKENS)
    return {
      name,
      status: 'warn',
      detail: 'could not be measured: the endpoint sent no usage with its answer',
      fix: 'the timeouts are not checked against the speed',
    };
  const perSecond = tokens / seconds;
  const timeoutS = settings.timeoutMs / 1000;
  const rate = `${perSecond.toFixed(1)} tokens/s (${tokens} tokens in ${seconds.toFixed(1)} s)`;
  const longest = Math.floor(perSecond * timeoutS);
  const tooLong = capsOf(config, roles).filter((c) => c.maxTokens !== undefined && c.maxTokens > longest);
  const status: CheckStatus = tooLong.length > 0 ? 'warn' : 'ok';
  if (tooLong.length === 0)
    return {
      name,
      status,
      tokensPerSecond: perSecond,
      detail: `${rate}: an answer of up to ${longest} tokens fits in the call timeout of ${timeoutS} s`,
    };
  const worst = tooLong[0]!;
  const needS = Math.ceil((worst.maxTokens! / perSecond) * 1.2);
  return {
    name,
    status,
    tokensPerSecond: perSecond,
    detail:
      `${rate}: ${tooLong.map((c) => `${c.role}'s output cap of ${c.maxTokens} tokens`).join(', ')} ` +
      `would take up to ${Math.ceil(worst.maxTokens! / perSecond)} s, longer than the call timeout of ${timeoutS} s; ` +
      'a long answer would time out and be retried',
    fix: `set MAESTRO_LLM_TIMEOUT_MS=${needS * 1000} (or more), or lower ${tooLong.map((c) => capSetting(c.role)).join(', ')} in maestro.config.json to ${longest} or less`,
  };
}

/**
 * What the roles of `model` need besides JSON: tool calls for agent roles, and a speed at which
 * their output caps fit in the call timeout. Each probe's spend is added to `p`, so the bill of
 * the doctor stays complete.
 */
export async function capabilityChecks(
  settings: LlmSettings,
  config: MaestroConfig,
  model: string,
  roles: string[],
  p: ModelProbe,
): Promise<DoctorCheck[]> {
  const spent: ProbeSpend = { calls: 0, promptTokens: 0, completionTokens: 0, usd: 0, noUsage: false };
  const checks: DoctorCheck[] = [];
  const agents = toolRolesOf(config, roles);
  if (agents.length > 0) {
    const tools = await toolCallCheck(settings, model, agents, spent);
    p.toolCalls = tools.status !== 'fail';
    checks.push(tools);
  }
  const { tokensPerSecond, ...speed } = await speedCheck(settings, config, model, roles, spent);
  if (tokensPerSecond !== undefined) p.tokensPerSecond = Math.round(tokensPerSecond * 10) / 10;
  checks.push(speed);
  p.calls += spent.calls;
  p.promptTokens += spent.promptTokens;
  p.completionTokens += spent.completionTokens;
  p.usd = Math.round((p.usd + spent.usd) * 1e6) / 1e6;
  p.estimated ||= spent.noUsage;
  return checks;
}
