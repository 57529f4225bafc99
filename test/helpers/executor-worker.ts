/**
 * The executor tests' worker in its own process (test/fixtures/executor/worker.ts), so a test can
 * SIGKILL it mid-CLI: started against the suite's Temporal server and simulator, resolved once it
 * polls. `args` makes every worker role the stand-in CLI run with them (FAKE_CLI_ARGS).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { testAddress } from './temporal';

/** Starts the fixture worker on `taskQueue` with its attempt folders under `work`; rejects if it does not start within 60 s. */
export async function startExecutorWorker(opts: {
  taskQueue: string;
  work: string;
  simUrl: string;
  args?: string[];
}): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.resolve(__dirname, '../fixtures/executor/worker.ts')],
    {
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: testAddress(),
        TASK_QUEUE: opts.taskQueue,
        SIM_URL: opts.simUrl,
        WORKFLOW_BUNDLE: process.env.MAESTRO_TEST_WORKFLOW_BUNDLE ?? '',
        WORK_DIR: opts.work,
        ...(opts.args ? { FAKE_CLI_ARGS: JSON.stringify(opts.args), FAKE_CLI_ALL_ROLES: '1' } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`the worker process did not start: ${out}`)), 60_000);
    const take = (b: Buffer) => {
      out += b.toString();
      if (process.env.EXECUTOR_TEST_DEBUG) process.stderr.write(b);
      if (out.includes('ready')) {
        clearTimeout(t);
        resolve();
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.once('exit', (code) => reject(new Error(`the worker process exited with ${code}: ${out}`)));
  });
  return child;
}
