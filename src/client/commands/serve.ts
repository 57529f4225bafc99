/** Long-running commands: `maestro dev`, `maestro worker`, `maestro sim-llm`. */
import type { Command } from 'commander';
import { InputError } from '../api';
import { loadConfig } from '../../config';
import { parseQuirks, QUIRK_ALIASES, SIM_QUIRKS, startSimLlm, type SimQuirk } from '../../dev/sim-llm';
import { parseRoleList } from '../../workers/role-queues';
import { startRunPhaseGauge } from '../../telemetry/run-phase-gauge';
import { parseIntOption, parseListenAddress } from '../options';
import { logToStderr, withSession } from '../session';
import { sandboxLimitMechanisms } from '../../activities/tools/sandbox';

/** Resolves when the process receives SIGINT or SIGTERM (standalone servers stop on it). */
export function untilInterrupted(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

/** Registers the serving commands. */
export function registerServeCommands(program: Command): void {
  program
    .command('dev')
    .description(
      'run the local stack until Ctrl-C: Temporal dev server + Web UI, a worker, and the simulated LLM when no key is set',
    )
    .option(
      '--sim-port <n>',
      'port of the simulated LLM (default: any free port)',
      parseIntOption('--sim-port', 0, 65535),
    )
    .option(
      '--codec-port <n>',
      'port of the codec server started for the Web UI when encryption keys are set (default 8888; 0 picks a free one)',
      parseIntOption('--codec-port', 0, 65535),
      8888,
    )
    .option('--no-codec-server', 'do not start the codec server (the Web UI then shows encrypted payloads as such)')
    .action(async (flags: { simPort?: number; codecPort: number; codecServer: boolean }) => {
      const codecPort = flags.codecServer ? flags.codecPort : undefined;
      await withSession(
        { worker: 'always', simPort: flags.simPort, serve: true, server: 'own', command: 'dev', codecPort },
        async ({ runtime, config, log, interrupted }) => {
          log(
            `Maestro dev is up. Temporal: ${runtime.address}, namespace ${config.temporal.namespace}, task queue ${config.temporal.taskQueue}.`,
          );
          if (runtime.uiUrl) log(`Web UI: ${runtime.uiUrl}`);
          if (runtime.codecUrl)
            log(
              `Codec server: ${runtime.codecUrl} (the Web UI decrypts payloads through it; CLI: temporal workflow show --codec-endpoint ${runtime.codecUrl} ...)`,
            );
          if (runtime.sim) log(`Simulated LLM: ${runtime.sim.baseUrl}`);
          log(
            'Start runs from another terminal with `maestro start "<goal>"` or `maestro run "<goal>"`. Ctrl-C stops everything.',
          );
          await interrupted;
        },
      );
    });

  program
    .command('worker')
    .description(
      "run a worker until Ctrl-C: the main queue (workflows, the Boss, roles without their own queue), or with --roles only those roles' queues",
    )
    .option('--roles <names>', 'comma-separated roles with their own task queue, e.g. coder,tester (activity-only)')
    .option(
      '--metrics <[host]:port>',
      'serve worker and Maestro metrics for Prometheus at http://host:port/metrics (e.g. :9464)',
      parseListenAddress('--metrics'),
    )
    .action(async (flags: { roles?: string; metrics?: string }) => {
      const queues = flags.roles !== undefined ? { roles: parseRoleList(flags.roles) } : ('main' as const);
      const session = { worker: 'always' as const, queues, serve: true, metricsAddress: flags.metrics };
      await withSession(session, async ({ runtime, config, api, log, interrupted }) => {
        const stopGauge = flags.metrics ? startRunPhaseGauge({ client: api.client, log }) : undefined;
        if (flags.metrics) log(`Metrics for Prometheus: http://${flags.metrics}/metrics`);
        const limits = sandboxLimitMechanisms();
        log(`Sandbox limits: processes by ${limits.processes}; memory by ${limits.memory}; disk: ${limits.disk}.`);
        for (const { spec } of runtime.workers) {
          const what =
            spec.kind === 'main'
              ? 'workflows, Boss and role activities'
              : `work of role(s) ${spec.roles.map((r) => r.name).join(', ')}`;
          log(
            `Worker polling task queue ${spec.taskQueue} (${what}) on ${runtime.address} (namespace ${config.temporal.namespace}).`,
          );
        }
        await interrupted;
        stopGauge?.();
      });
    });

  program
    .command('sim-llm')
    .description("run Maestro's simulated OpenAI-compatible LLM on its own")
    .option('--port <n>', 'port (default 8787)', parseIntOption('--port', 0, 65535), 8787)
    .option('--require-api-key <key>', 'answer 401 unless requests (also to the /_sim/ admin routes) carry this key')
    .option('--log-file <file>', 'append every request as one JSON line')
    .option(
      '--quirks <list>',
      `imitate provider quirks, comma-separated: ${[...SIM_QUIRKS, ...Object.keys(QUIRK_ALIASES)].join(', ')}`,
    )
    .action(async (flags: { port: number; requireApiKey?: string; logFile?: string; quirks?: string }) => {
      loadConfig(); // validate the environment like every other command
      let quirks: SimQuirk[];
      try {
        quirks = parseQuirks((flags.quirks ?? '').split(','));
      } catch (err) {
        throw new InputError(`--quirks: ${(err as Error).message}`);
      }
      const sim = await startSimLlm({
        port: flags.port,
        requireApiKey: flags.requireApiKey,
        logFile: flags.logFile,
        quirks,
      });
      const with_ = quirks.length > 0 ? ` (quirks: ${quirks.join(', ')})` : '';
      logToStderr(`Simulated LLM listening: OPENAI_BASE_URL=${sim.baseUrl}${with_}`);
      await untilInterrupted();
      await sim.close();
    });
}
