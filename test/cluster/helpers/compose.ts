/**
 * docker-compose.yml without Docker: the file parsed (the `yaml` package), interpolated the way
 * Compose does (`$$`, `${VAR}`, `${VAR:-default}`, `${VAR:+alternative}`, nested), and each
 * service's command, environment and volumes turned into a native process description, with the
 * compose network's host names and ports mapped to 127.0.0.1 and the test's free ports. The tests
 * then run those commands against the Go-built server and Debian's PostgreSQL.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

/** The parts of a compose service the tests use. */
export interface ComposeService {
  image?: string;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string | number | null> | string[];
  volumes?: string[];
  ports?: string[];
  profiles?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[]; interval?: string; timeout?: string; retries?: number; start_period?: string };
  stop_grace_period?: string;
}

/** The parsed file. */
export interface ComposeFile {
  services: Record<string, ComposeService>;
}

/** Reads and parses docker-compose.yml (no interpolation yet: values keep their `${...}`). */
export function readCompose(repoRoot: string): ComposeFile {
  return parse(readFileSync(path.join(repoRoot, 'docker-compose.yml'), 'utf8')) as ComposeFile;
}

/**
 * Compose's interpolation of one string from the shell environment `env`. Unset and empty differ
 * as in Compose: `:-`/`:+` treat empty as unset, `-`/`+` do not. `$$` is a literal `$`.
 */
export function interpolate(text: string, env: NodeJS.ProcessEnv): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '{') {
      let depth = 1;
      let j = i + 2;
      while (j < text.length && depth > 0) {
        if (text[j] === '{') depth++;
        else if (text[j] === '}') depth--;
        j++;
      }
      if (depth !== 0) throw new Error(`unterminated \${ in ${JSON.stringify(text)}`);
      out += expand(text.slice(i + 2, j - 1), env);
      i = j;
    } else {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1));
      if (!m) throw new Error(`a lone $ in ${JSON.stringify(text)}: write $$ for a literal $`);
      out += env[m[0]] ?? '';
      i += 1 + m[0].length;
    }
  }
  return out;
}

function expand(inner: string, env: NodeJS.ProcessEnv): string {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+?])([\s\S]*))?$/.exec(inner);
  if (!m) throw new Error(`bad substitution \${${inner}}`);
  const [, name, op, rest = ''] = m;
  const value = env[name!];
  const unset = op?.startsWith(':') ? value === undefined || value === '' : value === undefined;
  switch (op) {
    case undefined:
      return value ?? '';
    case '-':
    case ':-':
      return unset ? interpolate(rest, env) : value!;
    case '+':
    case ':+':
      return unset ? '' : interpolate(rest, env);
    default:
      if (unset) throw new Error(`required variable ${name} is missing: ${interpolate(rest, env)}`);
      return value!;
  }
}

/**
 * A service's environment as the container gets it: values interpolated; a key without a value
 * passes the shell's value through, or is left out when the shell has none (as Compose does).
 */
export function serviceEnv(service: ComposeService, shell: NodeJS.ProcessEnv): Record<string, string> {
  const entries: [string, string | number | null][] = Array.isArray(service.environment)
    ? service.environment.map((line) => {
        const at = line.indexOf('=');
        return at < 0 ? [line, null] : [line.slice(0, at), line.slice(at + 1)];
      })
    : Object.entries(service.environment ?? {});
  const out: Record<string, string> = {};
  for (const [key, raw] of entries) {
    if (raw === null) {
      if (shell[key] !== undefined) out[key] = shell[key]!;
    } else out[key] = interpolate(String(raw), shell);
  }
  return out;
}

/** The argv a service's container runs: entrypoint + command (interpolated), or the image's default. */
export function serviceArgv(service: ComposeService, shell: NodeJS.ProcessEnv, imageCmd: string[] = []): string[] {
  const list = (v: string[] | string | undefined) =>
    v === undefined
      ? undefined
      : (Array.isArray(v) ? v : v.split(/\s+/).filter(Boolean)).map((s) => interpolate(s, shell));
  const entry = list(service.entrypoint) ?? [];
  const cmd = list(service.command) ?? imageCmd;
  return [...entry, ...cmd];
}

/** `[host:]hostPort:containerPort` entries, as numbers. */
export function publishedPorts(service: ComposeService): { host: number; container: number; ip?: string }[] {
  return (service.ports ?? []).map((p) => {
    const parts = p.split(':');
    const container = Number(parts.pop());
    const host = Number(parts.pop());
    return { host, container, ...(parts[0] ? { ip: parts[0] } : {}) };
  });
}

/** Bind mounts and named volumes: `source:target[:mode]`. */
export function serviceVolumes(service: ComposeService): { source: string; target: string; readOnly: boolean }[] {
  return (service.volumes ?? []).map((v) => {
    const [source = '', target = '', mode] = v.split(':');
    return { source, target, readOnly: mode === 'ro' };
  });
}

/** Seconds of a compose duration such as `60s`, `1m30s`. */
export function durationSeconds(d: string): number {
  let total = 0;
  for (const [, n, unit] of d.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g))
    total += Number(n) * { ms: 0.001, s: 1, m: 60, h: 3600 }[unit as 'ms' | 's' | 'm' | 'h'];
  return total;
}

/**
 * How the compose network looks from the host: service host names become 127.0.0.1, and each
 * `service:port` (or a bare container port in a `*_PORT` variable or an argument) becomes the port
 * the test runs that service on.
 */
export interface NativeMap {
  hosts: string[];
  /** Container or published port → the test's port. */
  ports: Record<number, number>;
  /** Container path prefix → host path (volumes). */
  paths: Record<string, string>;
}

/**
 * Rewrites one value (an env value or an argument) for the host: `service:port` and mapped paths
 * always; a bare service name only when `bareHost` (a variable that holds a host, e.g. `*_SEEDS`).
 */
export function toNative(value: string, map: NativeMap, bareHost = false): string {
  if (/^\d+$/.test(value) && map.ports[Number(value)] !== undefined) return String(map.ports[Number(value)]);
  let v = value;
  for (const [from, to] of Object.entries(map.paths).sort((a, b) => b[0].length - a[0].length))
    if (v === from || v.startsWith(`${from}/`)) v = to + v.slice(from.length);
  const hosts = map.hosts.map((h) => h.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')).join('|');
  v = v.replace(
    new RegExp(`(?:\\b(${hosts}|localhost|127\\.0\\.0\\.1))?:(\\d{2,5})\\b`, 'g'),
    (all, host: string | undefined, port: string) => {
      const mapped = map.ports[Number(port)];
      if (mapped === undefined) return all;
      return `${host === undefined ? '' : host === 'localhost' ? 'localhost' : '127.0.0.1'}:${mapped}`;
    },
  );
  if (bareHost && map.hosts.includes(v)) v = '127.0.0.1';
  return v;
}

/** A service's environment rewritten for the host (`*_PORT` values mapped too). */
export function nativeEnv(env: Record<string, string>, map: NativeMap): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => {
      if (/_PORT$/.test(k) && /^\d+$/.test(v) && map.ports[Number(v)] !== undefined)
        return [k, String(map.ports[Number(v)])];
      return [k, toNative(v, map, /(SEEDS|HOST|ADDRESS)$/.test(k))];
    }),
  );
}

/** The runtime stage's `ENV` of the Dockerfile (what every container of the image starts with). */
export function imageEnv(repoRoot: string): Record<string, string> {
  const text = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
  const runtime = text.slice(text.lastIndexOf('\nFROM '));
  const out: Record<string, string> = {};
  for (const m of runtime.matchAll(/^ENV\s+((?:[^\n]*\\\n)*[^\n]*)/gm))
    for (const [, k, v] of m[1]!.replace(/\\\n/g, ' ').matchAll(/([A-Z_][A-Z0-9_]*)=(\S+)/g)) out[k!] = v!;
  return out;
}

/** The Dockerfile's `CMD` (exec form). */
export function imageCmd(repoRoot: string): string[] {
  const m = /^CMD\s+(\[.*\])\s*$/m.exec(readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8'));
  return m ? (JSON.parse(m[1]!) as string[]) : [];
}
