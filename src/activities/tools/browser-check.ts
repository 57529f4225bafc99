/**
 * Whether `check_page` can work here, asked before a run instead of discovered by a Tester: a
 * missing or broken browser is a setup problem for a person to fix, not a failing page. Used by
 * worker start (src/dev/runtime.ts), `maestro run` and `maestro doctor`.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AgentSettings } from '../../shared/tools';
import { checkPage, chromiumPath } from './check-page';

/** The names of the roles whose agents may call `check_page`. */
export function pageCheckingRoles(roles: readonly { name: string; agent?: AgentSettings }[]): string[] {
  return roles.filter((r) => r.agent?.tools.includes('check_page')).map((r) => r.name);
}

/**
 * Checks one tiny page exactly the way `check_page` does (same browser, same confinement).
 * Undefined when that works; else what failed and what to do, naming `roles` (those with
 * `check_page`).
 */
export async function browserSetupProblem(roles: readonly string[]): Promise<string | undefined> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'maestro-browser-check-'));
  try {
    chmodSync(dir, 0o755);
    const page = path.join(dir, 'index.html');
    writeFileSync(page, '<!doctype html><title>ok</title><meta name="viewport" content="width=device-width">', {
      mode: 0o644,
    });
    const report = await checkPage({ dir, page, timeoutMs: 30_000 });
    if (report.text.includes('title: ok')) return undefined;
    return browserFix(roles, `Chromium at ${chromiumPath()} did not render a test page`);
  } catch (err) {
    return browserFix(roles, String((err as Error)?.message ?? err).split('\n')[0] ?? '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function browserFix(roles: readonly string[], what: string): string {
  const which = roles.length > 0 ? `role(s) ${roles.join(', ')}` : 'a role';
  return `${which} use check_page, but no browser can be launched on this machine: ${what}. Install Chromium (apt-get install chromium), or set MAESTRO_CHROMIUM_PATH to a Chromium binary, or remove "check_page" from the "tools" of ${which} in maestro.config.json.`;
}
