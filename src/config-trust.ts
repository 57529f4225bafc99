/**
 * A configuration file is somebody's code: `mcpServers` commands are programs the worker starts and
 * `notify` URLs receive every run's gates and results; extra `programs` and raised `sandbox` limits
 * widen what a model's commands may do. A file found in the working directory may
 * have come with a cloned repository, so a file that defines any of these is used only when the
 * person trusts it: `--trust-config` or MAESTRO_TRUST_CONFIG. The refusal lists exactly what would
 * run and where data would go, so the person can decide.
 */
import path from 'node:path';
import { DEFAULT_SANDBOX_LIMITS } from './activities/tools/sandbox';
import type { ConfigFile } from './config-file';
import { terminalLine } from './shared/model-text';
import { shellQuote } from './shared/shell-quote';
import { SANDBOX_PROGRAMS } from './shared/tools';

/** The environment variable (and what `--trust-config` sets) that trusts a configuration file. */
export const TRUST_CONFIG_VARIABLE = 'MAESTRO_TRUST_CONFIG';

/** Why a configuration file was not used; the message lists what it would execute or contact. */
export class UntrustedConfigError extends Error {
  override name = 'UntrustedConfigError';
}

/** One line per thing the file makes a worker execute or contact, in the file's order. */
export function executablesOf(config: ConfigFile): string[] {
  const lines: string[] = [];
  const seen = new Set<string>();
  for (const role of config.roles ?? [])
    for (const server of role.mcpServers ?? []) {
      if (seen.has(server.name)) continue;
      seen.add(server.name);
      if (server.command) {
        const env = Object.keys(server.env ?? {});
        lines.push(
          `MCP server "${server.name}" (role ${role.name}) runs: ${[server.command, ...(server.args ?? [])].map(shellQuote).join(' ')}${env.length ? ` (with ${env.join(', ')} set)` : ''}`,
        );
      } else if (server.url) lines.push(`MCP server "${server.name}" (role ${role.name}) is called at ${server.url}`);
    }
  for (const role of config.roles ?? [])
    if (role.executor?.command !== undefined)
      lines.push(
        `custom executor (role ${role.name}) runs: ${[role.executor.command, ...(role.executor.args ?? [])].map(shellQuote).join(' ')}`,
      );
  for (const url of config.notify ?? []) lines.push(`webhook: every run's gates and results are POSTed to ${url}`);
  return [...lines, ...sandboxWidenings(config)];
}

/**
 * What the file lets `run_command` do beyond the defaults: more programs (`sh`, `python3`...) or
 * higher limits (a 64 GB, 4096-process sandbox can take the host down).
 */
function sandboxWidenings(config: ConfigFile): string[] {
  const lines: string[] = [];
  for (const role of config.roles ?? []) {
    const extra = (role.programs ?? []).filter((p) => !SANDBOX_PROGRAMS.includes(p));
    if (extra.length > 0) lines.push(`run_command may start ${extra.join(', ')} (role ${role.name})`);
    const raised = Object.entries(role.sandbox ?? {})
      .filter(([k, v]) => v > DEFAULT_SANDBOX_LIMITS[k as keyof typeof DEFAULT_SANDBOX_LIMITS])
      .map(([k, v]) => `${k} ${v} (default ${DEFAULT_SANDBOX_LIMITS[k as keyof typeof DEFAULT_SANDBOX_LIMITS]})`);
    if (raised.length > 0) lines.push(`run_command's limits are raised (role ${role.name}): ${raised.join(', ')}`);
  }
  return lines;
}

/**
 * Whether MAESTRO_TRUST_CONFIG trusts `file`: `1`/`true` trusts whatever file is read (meant for
 * one command, as `--trust-config` sets it); a path trusts that file only (fit for a profile).
 */
export function trusts(value: string | undefined, file: string, cwd: string): boolean {
  if (value === undefined || value.trim() === '') return false;
  if (['1', 'true', 'yes'].includes(value.trim().toLowerCase())) return true;
  return path.resolve(cwd, value.trim()) === path.resolve(file);
}

/** Throws UntrustedConfigError when `config` defines commands or webhooks and is not trusted. */
export function requireTrustedConfig(file: string, config: ConfigFile, trust: string | undefined, cwd: string): void {
  const lines = executablesOf(config);
  if (lines.length === 0 || trusts(trust, file, cwd)) return;
  throw new UntrustedConfigError(
    [
      `The configuration file ${file} defines what a worker would execute or send data to:`,
      // The file is somebody else's text: one terminal line each, escape codes shown, not obeyed.
      ...lines.map((l) => `  - ${terminalLine(l)}`),
      `Nothing was started. If you wrote or checked this file, run again with --trust-config (or set ${TRUST_CONFIG_VARIABLE}=${file}); otherwise remove "mcpServers", custom "executor" commands, "notify", extra "programs" and raised "sandbox" limits from it.`,
    ].join('\n'),
  );
}
