/**
 * `maestro doctor` for roles worked by a coding-agent CLI: is the CLI installed (where), which
 * version (`--version`, bounded, sanitised), and can it reach its model through Maestro: the
 * check starts the LLM gateway against the configured provider (the simulated LLM when none is
 * configured, as `maestro dev` does) and has the CLI answer one tiny headless prompt in a temporary
 * attempt folder, launched exactly as the executor launches it (cli-specs.ts, the sandbox, the
 * gateway's socket). Everything a CLI prints is untrusted: one plain line, clipped.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FsArtifactStore } from '../../activities/artifacts/fs-store';
import { CLI_PROGRAMS, cliLaunch, findCliProgram } from '../../activities/executor/cli-specs';
import { hideAllBut, installRoot } from '../../activities/executor/hide';
import { promptArgument } from '../../activities/executor/prompt';
import { runCli, type CliRun } from '../../activities/executor/run-cli';
import { prepareAttemptFolder, writeCtl, writeHomeFiles } from '../../activities/executor/space';
import type { LlmSettings } from '../../activities/llm/client';
import { llmSettingsOf } from '../../activities/llm/settings-of';
import { DEFAULT_SANDBOX_LIMITS } from '../../activities/tools/sandbox';
import type { MaestroConfig } from '../../config';
import { startSimLlm } from '../../dev/sim-llm';
import { startGateway } from '../../gateway';
import { plainLine } from '../../shared/model-text';
import type { RoleDefinition } from '../../shared/roles';
import type { LlmCallRecord } from '../../shared/types';
import type { DoctorCheck } from './checks';

/** Bounds of one CLI's checks. */
export interface CliCheckOptions {
  /** `--version` may take this long (default 15 s). */
  versionTimeoutMs?: number;
  /** The tiny prompt may take this long, CLI start included (default 120 s). */
  probeTimeoutMs?: number;
}

/** What the CLI is asked: nothing to do but answer through the gateway. */
export const DOCTOR_PROMPT =
  'This is a connectivity check by Maestro. Reply with the single word OK. Do not run commands, do not read or edit files.';

/** Model calls the probe may make (a CLI may make a side call or two besides the answer). */
const PROBE_PERMITS = 8;

/** One line of untrusted CLI output: no control, bidi or zero-width characters, at most `max` chars. */
export function cliText(text: string, max = 300): string {
  const line = plainLine(text.slice(0, max * 4))
    .replace(/\s+/g, ' ')
    .trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** The roles of `config` with a CLI, grouped by what makes a probe differ (agent, program, model). */
function executorRoles(config: MaestroConfig): RoleDefinition[] {
  return config.roles.filter((r) => r.executor !== undefined);
}

/** SIGKILL to a process group (its leader's pid), whatever is left of it. */
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Nothing left of it.
  }
}

/**
 * The program's `--version`, first line, sanitised; undefined when it does not answer in time. It
 * runs in a process group of its own, killed whole when the time is up and once it answered: a CLI
 * that forks children (which may hold its output open) neither hangs the doctor nor leaves them running.
 */
export function cliVersion(program: string, timeoutMs: number): Promise<{ version?: string; error?: string }> {
  return new Promise((resolve) => {
    // spawn, not execFile: execFile does not pass `detached` on (no process group of its own).
    const child = spawn(program, ['--version'], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', CI: 'true', TERM: 'dumb' },
    });
    const max = 64 * 1024;
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      if (stdout.length < max) stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < max) stderr += d.toString('utf8');
    });
    let timedOut = false;
    let done = false;
    const finish = (err: Error | undefined) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      killGroup(child.pid);
      const first = stdout.split('\n').find((l) => l.trim() !== '') ?? '';
      if ((err || timedOut) && !first)
        resolve({
          error: cliText(
            timedOut
              ? `no answer to --version within ${Math.round(timeoutMs / 1000)} s`
              : `${err?.message ?? ''} ${stderr}`,
            200,
          ),
        });
      else resolve({ version: cliText(first, 100) });
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
      // Output held open by a child that left the group: answer anyway.
      setTimeout(() => finish(undefined), 500).unref();
    }, timeoutMs);
    child.on('error', (err) => finish(err));
    child.on('close', (code, signal) =>
      finish(code === 0 ? undefined : new Error(`--version exited with ${code ?? signal ?? '?'}`)),
    );
  });
}

/** Why a probe failed, and what to do, from the run and the gateway's calls; undefined: it worked. */
export function probeFailure(
  run: CliRun,
  calls: readonly LlmCallRecord[],
  timeoutMs: number,
  /** The gateway's last refusal or upstream error, as it told the CLI. */
  gatewaySaid?: string,
): { detail: string; fix: string } | undefined {
  const answered = calls.filter((c) => !c.error);
  const stderr = cliText(run.stderrTail.trim().split('\n').slice(-3).join(' | '), 300);
  const said = run.progress.error ?? run.progress.warning;
  const tail = `${said ? `; it said: ${cliText(said, 300)}` : ''}${stderr ? `; stderr: ${stderr}` : ''}`;
  if (run.sandbox.stopped === 'timeout' || run.stoppedBy === 'wall-clock')
    return {
      detail: `no answer within ${Math.round(timeoutMs / 1000)} s (${answered.length} model call(s) answered)${tail}`,
      fix: 'check that the CLI starts headless on this machine and that the provider answers quickly',
    };
  if (!run.exit)
    return {
      detail: `the CLI did not run in the sandbox (exit ${run.sandbox.exitCode ?? '?'})${tail || `: ${cliText(run.sandbox.output.slice(-500))}`}`,
      fix: 'check the sandbox (`maestro doctor` on the worker host) and that the CLI can run from where it is installed',
    };
  const failed = calls.find((c) => c.error);
  if (answered.length === 0)
    return failed
      ? {
          detail: `the provider refused the CLI's call through Maestro's gateway: ${cliText(gatewaySaid ?? failed.error ?? '', 300)}`,
          fix: 'check the provider, key and the model of this role (the checks above)',
        }
      : {
          detail: `the CLI made no model call through Maestro's gateway (exit ${run.exit.code ?? run.exit.signal ?? '?'})${tail}`,
          fix: 'check that this CLI version honours the base URL settings Maestro gives it (docs/coding-agent-clis.md)',
        };
  if (run.progress.error || run.exit.code !== 0)
    return {
      detail: `the CLI reached the model but ended with an error (exit ${run.exit.code ?? run.exit.signal ?? '?'})${tail}`,
      fix: 'run the CLI by hand to see its error; check the model name of this role',
    };
  return undefined;
}

/** The probe of one role's CLI: the tiny prompt through a fresh gateway, in a temporary folder. */
async function probeCli(
  config: MaestroConfig,
  role: RoleDefinition,
  program: string,
  llm: LlmSettings,
  timeoutMs: number,
): Promise<DoctorCheck> {
  const settings = role.executor!;
  const model = settings.model ?? role.model ?? config.llm.workerModel;
  const name = `${settings.agent} reaches ${model} through Maestro (${role.name})`;
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'maestro-doctor-cli-'));
  try {
    const folder = await prepareAttemptFolder(
      new FsArtifactStore(path.join(scratch, 'store')),
      { dependencies: [], own: [] },
      scratch,
      undefined,
    );
    try {
      await writeCtl(folder, 'prompt.md', DOCTOR_PROMPT);
      let gatewaySaid: string | undefined;
      const gateway = await startGateway({
        llm,
        model,
        permits: PROBE_PERMITS,
        wallMs: timeoutMs,
        meta: { kind: 'work', role: role.name, attempt: 1 },
        socketPath: folder.host.socket,
        tcp: false,
        log: (e) => {
          if (e.kind === 'upstream-error' || e.kind === 'refused') gatewaySaid = e.message;
        },
      });
      let run: CliRun;
      let calls: LlmCallRecord[];
      try {
        const launch = cliLaunch({
          agent: settings.agent,
          program,
          ...(role.executorCommand ? { customArgs: role.executorCommand.args } : {}),
          prompt: promptArgument(DOCTOR_PROMPT, folder.inside.promptFile),
          promptFile: folder.inside.promptFile,
          home: folder.inside.home,
          model,
          token: gateway.token,
          callTimeoutSec: Math.max(10, Math.floor(timeoutMs / 2000)),
        });
        await writeHomeFiles(folder, launch.homeFiles);
        run = await runCli({
          folder,
          launch,
          gateway,
          limits: {
            ...DEFAULT_SANDBOX_LIMITS,
            cpuSeconds: Math.ceil(timeoutMs / 1000) * 2,
            memoryMb: 4096,
            maxProcesses: 256,
            diskMb: 1024,
            maxFiles: 100_000,
            ...settings.limits,
            timeoutMs,
          },
          hide: hideAllBut([config.home, ...(config.secretFiles ?? []), scratch], installRoot(program)),
        });
      } finally {
        calls = gateway.ledger().calls;
        await gateway.close();
      }
      const failure = probeFailure(run, calls, timeoutMs, gatewaySaid);
      if (failure) return { name, status: 'fail', ...failure };
      const tokens = calls.reduce((n, c) => n + c.promptTokens + c.completionTokens, 0);
      const answer = run.progress.result !== undefined ? `, answered "${cliText(run.progress.result, 60)}"` : '';
      return {
        name,
        status: 'ok',
        detail: `${calls.length} model call(s) through the gateway, ${tokens} tokens${answer}`,
      };
    } finally {
      await folder.ws.dispose();
    }
  } catch (err) {
    return {
      name,
      status: 'fail',
      detail: cliText(`the check could not run: ${err instanceof Error ? err.message : String(err)}`),
      fix: 'see the message; coding-agent CLIs need the same sandbox as run_command',
    };
  } finally {
    await rm(scratch, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** The provider the CLIs' gateway forwards to: the configured one (undefined when simulated). */
function providerSettings(config: MaestroConfig): LlmSettings {
  return llmSettingsOf(config);
}

/**
 * Checks of every role with an `executor`: found and version, then the probe through the
 * gateway (skipped when the CLI is missing). No executor roles: no checks.
 */
export async function runCliChecks(config: MaestroConfig, opts: CliCheckOptions = {}): Promise<DoctorCheck[]> {
  const roles = executorRoles(config);
  if (roles.length === 0) return [];
  const checks: DoctorCheck[] = [];
  const sim = config.llm.simulated ? await startSimLlm({ port: 0 }) : undefined;
  try {
    const llm: LlmSettings = sim
      ? { provider: 'openai', baseUrl: sim.baseUrl, apiKey: 'sim', timeoutMs: config.llm.timeoutMs }
      : providerSettings(config);
    for (const role of roles) {
      const agent = role.executor!.agent;
      const bin = agent === 'custom' ? role.executorCommand?.command : CLI_PROGRAMS[agent].bin;
      const program = bin ? findCliProgram(bin, config.home) : undefined;
      const name = `${agent} CLI (${role.name})`;
      if (!program) {
        checks.push({
          name,
          status: 'fail',
          detail:
            agent === 'custom'
              ? `not installed: ${bin ?? 'no command'} is neither a file nor on PATH`
              : `not installed (looked in ${path.join(config.home, 'agent-clis')} and PATH)`,
          fix:
            agent === 'custom'
              ? `install ${bin ?? 'the command'} or fix "executor.command"`
              : CLI_PROGRAMS[agent].install,
        });
        continue;
      }
      if (agent === 'custom') checks.push({ name, status: 'ok', detail: `found at ${program} (custom command)` });
      else {
        const v = await cliVersion(program, opts.versionTimeoutMs ?? 15_000);
        checks.push(
          v.version
            ? { name, status: 'ok', detail: `found at ${program}, version ${v.version}` }
            : {
                name,
                status: 'fail',
                detail: `found at ${program}, but --version failed: ${v.error ?? 'no output'}`,
                fix: `reinstall it: ${CLI_PROGRAMS[agent].install}`,
              },
        );
      }
      const probe = await probeCli(config, role, program, llm, opts.probeTimeoutMs ?? 120_000);
      checks.push(sim ? { ...probe, detail: `${probe.detail} (the simulated LLM: no provider is configured)` } : probe);
    }
  } finally {
    await sim?.close();
  }
  return checks;
}
