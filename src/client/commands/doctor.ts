/** `maestro doctor [--json]`: checks the model endpoint before a long run and says what to fix. */
import type { Command } from 'commander';
import { loadConfig } from '../../config';
import { runDoctor, type DoctorReport } from '../doctor/checks';

const MARK = { ok: '✓', warn: '!', fail: '✗' } as const;

/** The report as a person reads it: one line per check, the probes' cost, then what to fix. */
export function renderDoctor(report: DoctorReport): string {
  const lines = [`Model endpoint: ${report.endpoint}`];
  for (const c of report.checks) lines.push(`  ${MARK[c.status]} ${c.name}: ${c.detail}`);
  if (report.probes.length > 0) {
    const usd = report.probes.reduce((s, p) => s + p.usd, 0);
    const calls = report.probes.reduce((s, p) => s + p.calls, 0);
    lines.push(`Probes: ${calls} call(s), $${usd.toFixed(6)}`);
    for (const p of report.probes) {
      const tokens = `${p.promptTokens}+${p.completionTokens} tokens${p.estimated ? ' (estimated: no usage sent)' : ''}`;
      lines.push(
        `  ${p.model}: ${p.ok ? `mode ${p.mode ?? '?'}` : 'failed'}, ${p.calls} call(s), ${tokens}, $${p.usd.toFixed(6)}`,
      );
    }
  }
  const fixes = report.checks.filter((c) => c.fix && c.status !== 'ok');
  if (fixes.length > 0) {
    lines.push('What to fix:');
    for (const c of fixes) lines.push(`  - ${c.name}: ${c.fix}`);
  }
  lines.push(report.ok ? 'Ready to run.' : 'Not ready: fix the items above and run `maestro doctor` again.');
  return lines.join('\n');
}

/** Registers `maestro doctor`. */
export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description(
      'check the model endpoint: reachable, key accepted, models exist, which structured-output mode works, tool calls for agent roles, speed against the call timeout (tiny priced probes)',
    )
    .option('--json', 'print the report as JSON')
    .action(async (flags: { json?: boolean }) => {
      const report = await runDoctor(loadConfig());
      process.stdout.write(`${flags.json ? JSON.stringify(report, null, 2) : renderDoctor(report)}\n`);
      if (!report.ok) process.exitCode = 1;
    });
}
