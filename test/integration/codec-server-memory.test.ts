/**
 * The codec server's memory under an attack request (issue 19 item 7.6): 2.5 million empty
 * payloads in a 7.5 MB body once took `maestro codec-server` from 126 MB to 1.62 GB, which it
 * kept. Measured on a real `maestro codec-server` process: its peak RSS (VmHWM) may grow by a
 * bounded amount only, and the request gets a 413 that says what the limit is.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CLI, cleanEnv } from '../helpers/cli';

jest.setTimeout(120_000);

let child: ChildProcess;
let url: string;

beforeAll(async () => {
  child = spawn(process.execPath, [CLI, 'codec-server', '--port', '0', '--auth-token', 'sesame'], {
    env: cleanEnv({ MAESTRO_ENCRYPTION_KEYS: `k1=${Buffer.alloc(32, 1).toString('base64')}` }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stderr!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /Codec server listening: (http:\/\/[\d.:]+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (c) => reject(new Error(`codec-server exited ${c}: ${out}`)));
  });
});
afterAll(() => {
  child?.kill('SIGKILL');
});

/** Peak resident memory of the codec server process so far, in MB. */
function peakRssMb(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
  return Number(m![1]) / 1024;
}

const post = (body: string) =>
  fetch(`${url}/decode`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sesame' },
    body,
  });

it('2.5 million empty payloads in 7.5 MB: a 413, and the peak RSS grows by less than 100 MB', async () => {
  // Warm up with an ordinary request, so the baseline includes the code paths' own memory.
  const ok = await post(JSON.stringify({ payloads: [{ metadata: {}, data: '' }] }));
  expect(ok.status).toBe(200);
  const before = peakRssMb();
  const attack = `{"payloads":[${Array(2_500_000).fill('{}').join(',')}]}`;
  expect(attack.length).toBeGreaterThan(7_000_000);
  const res = await post(attack);
  const grownMb = Math.round(peakRssMb() - before);
  const { error } = (await res.json()) as { error?: string };
  expect(grownMb).toBeLessThan(100);
  expect({ status: res.status, error }).toEqual({
    status: 413,
    error: expect.stringMatching(/at most [\d,]+ payloads/) as unknown,
  });
});
