/**
 * How each coding-agent CLI is started headless inside the sandbox: its program, flags, the
 * environment that points it at the gateway (and turns off its telemetry, update checks and
 * retries without end), and the files its empty HOME needs. The facts behind each choice are in
 * docs/coding-agent-clis.md (measured on real installs): codex speaks only the Responses API,
 * claude the Anthropic Messages API, the others chat completions.
 */
import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';
import type { ExecutorAgent } from '../../shared/executor-settings';

/** The gateway's base URL inside the sandbox; the forwarder fills in its loopback port. */
export const SANDBOX_GATEWAY_URL = 'http://127.0.0.1:{{PORT}}';

/** What the launch of one CLI attempt is built from. */
export interface CliLaunchArgs {
  agent: ExecutorAgent;
  /** Absolute path of the program (resolved on the worker; visible read-only in the sandbox). */
  program: string;
  /** A custom executor's arguments (placeholders filled in here). */
  customArgs?: readonly string[];
  /** The prompt text (ticket brief and inputs); also written to `promptFile`. */
  prompt: string;
  promptFile: string;
  /** The CLI's empty HOME for this attempt (inside the sandbox). */
  home: string;
  model: string;
  token: string;
  /** Seconds one model call may take before the CLI gives it up (bounds hung calls). */
  callTimeoutSec: number;
  /**
   * The space's files (relative paths): the ticket's own from its previous attempt, and the rest
   * (dependencies' outputs). Only aider needs them: it has no tool to read files, so it is given
   * its own to edit and the others read-only.
   */
  spaceFiles?: { own: readonly string[]; others: readonly string[] };
}

/** Files named on aider's command line, at most, per kind (the rest it does not see). */
export const AIDER_MAX_FILES = 50;

/** The command line, environment and HOME files of one CLI attempt. */
export interface CliLaunch {
  argv: string[];
  env: Record<string, string>;
  /** Files to create under HOME (relative path, content). */
  homeFiles: { path: string; content: string }[];
  /** Whether the CLI prints a JSON event stream on stdout (aider prints text). */
  jsonEvents: boolean;
}

/** The Python virtual environment under `<maestroHome>/agent-clis` that aider (PyPI) is installed in. */
export const AIDER_VENV = 'aider-venv';

/** Program names and the package that installs each (the versions .ci/run pins and tests), for finding and for error messages. */
export const CLI_PROGRAMS: Record<Exclude<ExecutorAgent, 'custom'>, { bin: string; install: string }> = {
  codex: { bin: 'codex', install: 'npm install --prefix .maestro/agent-clis @openai/codex@0.171.0' },
  'claude-code': {
    bin: 'claude',
    install: 'npm install --prefix .maestro/agent-clis @anthropic-ai/claude-code@2.1.332',
  },
  opencode: { bin: 'opencode', install: 'npm install --prefix .maestro/agent-clis opencode-ai@1.18.33' },
  'qwen-code': { bin: 'qwen', install: 'npm install --prefix .maestro/agent-clis @qwen-code/qwen-code@0.15.10' },
  aider: {
    bin: 'aider',
    install: `/usr/bin/python3 -m venv .maestro/agent-clis/${AIDER_VENV} && .maestro/agent-clis/${AIDER_VENV}/bin/pip install aider-chat==0.86.2`,
  },
};

/**
 * The absolute path of a CLI's program: `<maestroHome>/agent-clis/node_modules/.bin/<bin>` (npm)
 * or `<maestroHome>/agent-clis/aider-venv/bin/<bin>` (PyPI) when installed there, else the first
 * match on PATH; undefined when it is nowhere.
 */
export function findCliProgram(
  bin: string,
  maestroHome: string | undefined,
  envPath = process.env.PATH ?? '',
): string | undefined {
  if (path.isAbsolute(bin)) return existsSync(bin) ? realProgram(bin) : undefined;
  const dirs = [
    ...(maestroHome
      ? [
          path.join(maestroHome, 'agent-clis', 'node_modules', '.bin'),
          path.join(maestroHome, 'agent-clis', AIDER_VENV, 'bin'),
        ]
      : []),
    ...envPath.split(':').filter((d) => d !== ''),
  ];
  for (const d of dirs) {
    const full = path.join(d, bin);
    if (existsSync(full)) return realProgram(full);
  }
  return undefined;
}

/**
 * The program's path through the real path of its folder: the sandbox hides MAESTRO_HOME but the
 * CLI's install, so a path through a linked `agent-clis` (a shared install) would not resolve
 * inside it. npm's `.bin` link itself stays (it points within the install, which stays visible).
 */
function realProgram(file: string): string {
  try {
    return path.join(realpathSync(path.dirname(file)), path.basename(file));
  } catch {
    return file;
  }
}

/** Environment every CLI gets: a clean HOME, no colours, no telemetry, no update checks. */
function baseEnv(home: string): Record<string, string> {
  return {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    XDG_CONFIG_HOME: `${home}/.config`,
    XDG_CACHE_HOME: `${home}/.cache`,
    XDG_DATA_HOME: `${home}/.local/share`,
    TMPDIR: '/tmp',
    LANG: 'C.UTF-8',
    TERM: 'dumb',
    NO_COLOR: '1',
    CI: 'true',
    DO_NOT_TRACK: '1',
    npm_config_offline: 'true',
    npm_config_update_notifier: 'false',
  };
}

/**
 * A preload for Node CLIs that call `os.userInfo()` at start (Qwen Code does, through the
 * `atomically` package): the sandbox's uid has no passwd entry, so the real call throws ENOENT and
 * the CLI dies before its first request. Only a failing call is answered, from the process itself.
 */
const USERINFO_PRELOAD = `const os = require('node:os');
const real = os.userInfo;
os.userInfo = function userInfo(options) {
  try { return real.call(os, options); } catch {
    return { uid: process.getuid(), gid: process.getgid(), username: 'maestro', homedir: process.env.HOME || '/tmp', shell: null };
  }
};
`;

/** Fills a custom executor's placeholders, in one pass: a value (the prompt) is never searched again. */
function fillCustom(arg: string, a: CliLaunchArgs): string {
  const values: Record<string, string> = {
    prompt: a.prompt,
    promptFile: a.promptFile,
    baseUrl: SANDBOX_GATEWAY_URL,
    model: a.model,
  };
  return arg.replace(/\{(prompt|promptFile|baseUrl|model)\}/g, (_m, key: string) => values[key] ?? '');
}

/** The launch of one attempt of `a.agent`. */
export function cliLaunch(a: CliLaunchArgs): CliLaunch {
  const env = baseEnv(a.home);
  const v1 = `${SANDBOX_GATEWAY_URL}/v1`;
  switch (a.agent) {
    case 'codex':
      return {
        // Maestro's sandbox is the isolation: codex's own did not work with its home under /tmp.
        argv: [
          a.program,
          'exec',
          '--json',
          '--skip-git-repo-check',
          '--dangerously-bypass-approvals-and-sandbox',
          ...['-c', 'model_provider="maestro"'],
          ...['-c', 'model_providers.maestro.name="maestro"'],
          ...['-c', `model_providers.maestro.base_url="${v1}"`],
          ...['-c', 'model_providers.maestro.wire_api="responses"'],
          ...['-c', 'model_providers.maestro.env_key="MAESTRO_GATEWAY_TOKEN"'],
          ...['-c', 'model_providers.maestro.request_max_retries=2'],
          ...['-c', 'model_providers.maestro.stream_max_retries=2'],
          ...['-c', `model_providers.maestro.stream_idle_timeout_ms=${a.callTimeoutSec * 1000}`],
          ...['-m', a.model],
          a.prompt,
        ],
        env: { ...env, CODEX_HOME: `${a.home}/.codex`, MAESTRO_GATEWAY_TOKEN: a.token },
        homeFiles: [{ path: '.codex/.keep', content: '' }],
        jsonEvents: true,
      };
    case 'claude-code':
      return {
        argv: [
          a.program,
          '-p',
          a.prompt,
          ...['--output-format', 'stream-json', '--verbose'],
          '--dangerously-skip-permissions',
          ...['--model', a.model],
        ],
        env: {
          ...env,
          ANTHROPIC_BASE_URL: SANDBOX_GATEWAY_URL,
          ANTHROPIC_API_KEY: a.token,
          IS_SANDBOX: '1',
          DISABLE_TELEMETRY: '1',
          CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
          DISABLE_AUTOUPDATER: '1',
          DISABLE_ERROR_REPORTING: '1',
          CLAUDE_CODE_MAX_RETRIES: '2',
          API_TIMEOUT_MS: String(a.callTimeoutSec * 1000),
        },
        homeFiles: [],
        jsonEvents: true,
      };
    case 'qwen-code':
      return {
        argv: [a.program, '-p', a.prompt, '--yolo', ...['--output-format', 'stream-json'], ...['--model', a.model]],
        env: {
          ...env,
          OPENAI_BASE_URL: v1,
          OPENAI_API_KEY: a.token,
          OPENAI_MODEL: a.model,
          QWEN_CODE_API_TIMEOUT_MS: String(a.callTimeoutSec * 1000),
          NODE_OPTIONS: `--require ${a.home}/.maestro-userinfo.cjs`,
        },
        // Usage statistics would go to an outside host (and add seconds at exit).
        homeFiles: [
          { path: '.maestro-userinfo.cjs', content: USERINFO_PRELOAD },
          {
            path: '.qwen/settings.json',
            content: JSON.stringify({ usageStatisticsEnabled: false, privacy: { usageStatisticsEnabled: false } }),
          },
        ],
        jsonEvents: true,
      };
    case 'opencode':
      return {
        argv: [a.program, 'run', ...['--format', 'json'], ...['--model', `maestro/${a.model}`], a.prompt],
        env: {
          ...env,
          OPENCODE_CONFIG: `${a.home}/opencode.json`,
          // opencode.json reads these ({env:…}): only argv and env get the forwarder's port filled in.
          MAESTRO_GATEWAY_URL: v1,
          MAESTRO_GATEWAY_TOKEN: a.token,
          OPENCODE_DISABLE_MODELS_FETCH: '1',
          OPENCODE_DISABLE_AUTOUPDATE: '1',
          OPENCODE_DISABLE_DEFAULT_PLUGINS: '1',
        },
        homeFiles: [
          {
            path: 'opencode.json',
            content: JSON.stringify({
              $schema: 'https://opencode.ai/config.json',
              autoupdate: false,
              share: 'disabled',
              permission: { edit: 'allow', bash: 'allow' },
              provider: {
                maestro: {
                  npm: '@ai-sdk/openai-compatible',
                  options: { baseURL: '{env:MAESTRO_GATEWAY_URL}', apiKey: '{env:MAESTRO_GATEWAY_TOKEN}' },
                  models: { [a.model]: {} },
                },
              },
            }),
          },
        ],
        jsonEvents: true,
      };
    case 'aider':
      return {
        argv: [
          a.program,
          ...['--model', `openai/${a.model}`],
          ...['--message', a.prompt],
          '--yes-always',
          ...['--no-git', '--no-auto-commits', '--no-check-update', '--no-show-model-warnings', '--no-pretty'],
          ...['--analytics-disable', '--no-stream'],
          // One message, then exit: summarising the chat history would only be extra billed calls.
          ...['--max-chat-history-tokens', '1000000'],
          // `--opt=value`: a file named like an option stays a file.
          ...(a.spaceFiles?.own ?? []).slice(0, AIDER_MAX_FILES).map((f) => `--file=${f}`),
          ...(a.spaceFiles?.others ?? []).slice(0, AIDER_MAX_FILES).map((f) => `--read=${f}`),
        ],
        // aider fetches a price list at start unless a non-empty cache exists.
        // The gateway and its token through the environment: on the command line the token would
        // show in every `ps` of the worker.
        env: { ...env, AIDER_OPENAI_API_BASE: v1, AIDER_OPENAI_API_KEY: a.token },
        homeFiles: [{ path: '.aider/caches/model_prices_and_context_window.json', content: '{"maestro":{}}' }],
        jsonEvents: false,
      };
    case 'custom':
      return {
        argv: [a.program, ...(a.customArgs ?? []).map((x) => fillCustom(x, a))],
        env: {
          ...env,
          MAESTRO_GATEWAY_URL: SANDBOX_GATEWAY_URL,
          MAESTRO_GATEWAY_TOKEN: a.token,
          MAESTRO_PROMPT_FILE: a.promptFile,
          MAESTRO_MODEL: a.model,
          OPENAI_BASE_URL: v1,
          OPENAI_API_KEY: a.token,
          ANTHROPIC_BASE_URL: SANDBOX_GATEWAY_URL,
          ANTHROPIC_API_KEY: a.token,
        },
        homeFiles: [],
        jsonEvents: true,
      };
  }
}
