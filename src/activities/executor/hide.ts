/**
 * The sandbox hides MAESTRO_HOME (and secret files) from commands; a CLI installed under
 * `<home>/agent-clis` must still be readable there. So a hidden folder that holds the CLI's install
 * is replaced by every entry beside the path to it, down to the install: the rest stays hidden.
 */
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import path from 'node:path';

/**
 * The folder a CLI program is installed in: the folder holding its first `node_modules`, the
 * Python virtual environment its `bin/` belongs to (aider: its packages are in the venv's `lib/`),
 * else its own folder.
 */
export function installRoot(program: string): string {
  let real = program;
  try {
    real = realpathSync(program);
  } catch {
    // not there: the run fails later with a clear message
  }
  const at = real.indexOf(`${path.sep}node_modules${path.sep}`);
  if (at > 0) return real.slice(0, at);
  const dir = path.dirname(real);
  if (path.basename(dir) === 'bin' && existsSync(path.join(dir, '..', 'pyvenv.cfg'))) return path.dirname(dir);
  return dir;
}

/** `hide` with `keep` (and everything under it) left visible: its hidden ancestors become their other entries. */
export function hideAllBut(hide: readonly string[], keep: string): string[] {
  const out: string[] = [];
  for (const h of hide) {
    let real: string;
    try {
      real = realpathSync(h);
    } catch {
      out.push(h);
      continue;
    }
    if (keep === real) continue;
    if (!keep.startsWith(`${real}${path.sep}`)) {
      out.push(h);
      continue;
    }
    let dir = real;
    while (dir !== keep) {
      const next = keep.slice(dir.length + 1).split(path.sep)[0] ?? '';
      let entries: string[] = [];
      try {
        entries = readdirSync(dir);
      } catch {
        break;
      }
      for (const e of entries) if (e !== next) out.push(path.join(dir, e));
      dir = path.join(dir, next);
    }
  }
  return out;
}
