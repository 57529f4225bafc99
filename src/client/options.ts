/** Parsers for CLI option values that fail with a message naming the flag. */
import { InvalidArgumentError } from 'commander';
import { runIdProblem } from '../shared/run-id';
import { TicketId } from '../shared/schemas';

/** An integer option within [min, max]. */
export function parseIntOption(flag: string, min: number, max: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${flag} takes a whole number from ${min} to ${max}; got "${value}".`);
    }
    return n;
  };
}

/** A positive number option (dollars, tokens) within (0, max]. */
export function parsePositiveOption(flag: string, max: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > max) {
      throw new InvalidArgumentError(`${flag} takes a positive number up to ${max}; got "${value}".`);
    }
    return n;
  };
}

/**
 * `--out DIR`: an empty value is refused while the arguments are read, before any server is
 * asked or started (an empty path would otherwise resolve to the current folder).
 */
export function parseOutOption(value: string): string {
  if (value.trim() === '')
    throw new InvalidArgumentError('--out is empty: give the folder to write the files to, e.g. --out site.');
  return value;
}

/** A run id (argument or `--run-id`): refused with the rule when it could escape a folder or garble a terminal. */
export function parseRunIdOption(value: string): string {
  const problem = runIdProblem(value);
  if (problem) throw new InvalidArgumentError(`not a valid run id (${JSON.stringify(value)}): ${problem}.`);
  return value;
}

/** A ticket id option such as `--epic T3`. */
export function parseTicketIdOption(flag: string): (value: string) => string {
  return (value: string) => {
    if (!TicketId.safeParse(value).success)
      throw new InvalidArgumentError(`${flag} takes a ticket id such as T3 (see \`maestro status\`); got "${value}".`);
    return value;
  };
}

/** One of a fixed set of words. */
export function parseChoiceOption<T extends string>(flag: string, choices: readonly T[]): (value: string) => T {
  return (value: string) => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`${flag} takes one of ${choices.join(', ')}; got "${value}".`);
    }
    return value as T;
  };
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** A duration such as `90s`, `15m`, `2h`, `1d`, `1w` in milliseconds; undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([smhdw])$/i.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2]!.toLowerCase()]!;
  return ms > 0 ? Math.round(ms) : undefined;
}

/** A gate timeout `kind=duration[:policy]`, e.g. `plan=2h:approve`; repeatable. */
export interface GateTimeoutFlag {
  kind: 'plan' | 'ticket' | 'final' | 'budget';
  timeoutMs: number;
  onTimeout: 'approve' | 'reject' | 'fail' | 'wait';
}

/** Collects repeated `--gate-timeout` flags, refusing malformed ones with an example. */
export function collectGateTimeout(value: string, previous: GateTimeoutFlag[] = []): GateTimeoutFlag[] {
  const m = /^(plan|ticket|final|budget)=([^:]+)(?::(approve|reject|fail|wait))?$/.exec(value.trim());
  const timeoutMs = m ? parseDuration(m[2]!) : undefined;
  if (!m || timeoutMs === undefined) {
    throw new InvalidArgumentError(
      `--gate-timeout takes kind=duration[:policy], e.g. plan=2h:approve or budget=30m:reject (kinds: plan, ticket, final, budget; policies: approve, reject, fail, wait); got "${value}".`,
    );
  }
  if (previous.some((g) => g.kind === m[1])) {
    throw new InvalidArgumentError(
      `--gate-timeout for ${m[1]} is given twice ("${value}"); give one timeout per gate kind.`,
    );
  }
  return [
    ...previous,
    { kind: m[1] as GateTimeoutFlag['kind'], timeoutMs, onTimeout: (m[3] ?? 'wait') as GateTimeoutFlag['onTimeout'] },
  ];
}

/** A listen address `host:port` or `:port` (all interfaces), e.g. for `--metrics :9464`. */
export function parseListenAddress(flag: string): (value: string) => string {
  return (value: string) => {
    const m = /^([^\s:]*|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(value.trim());
    const port = m ? Number(m[2]) : NaN;
    if (!m || port < 1 || port > 65535) {
      throw new InvalidArgumentError(`${flag} takes [host]:port, e.g. :9464 or 127.0.0.1:9464; got "${value}".`);
    }
    return `${m[1] || '0.0.0.0'}:${port}`;
  };
}
