/**
 * When `maestro worker` relaunches itself with its memory settings, and with what: only the
 * worker command, only what the user did not set, never twice, never on Windows.
 */
import { relaunchPlan, RelaunchSettingError } from '../../src/client/worker-relaunch';
import { RELAUNCHED_ENV, semiSpaceSizeSet, WORKER_SEMI_SPACE_MB } from '../../src/workers/worker-launch';

const base = { argv: ['/usr/bin/node', '/app/dist/client/cli.js', 'worker'], execArgv: [], platform: 'linux' as const };

describe('relaunchPlan', () => {
  it('relaunches `maestro worker` with MALLOC_ARENA_MAX=2 and the semi-space cap, keeping its arguments and flags', () => {
    const plan = relaunchPlan({
      ...base,
      argv: [...base.argv, '--roles', 'coder'],
      execArgv: ['--enable-source-maps'],
      env: { PATH: '/bin', MAESTRO_HOME: '/data' },
    });
    expect(plan).toEqual({
      args: [
        '--enable-source-maps',
        `--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`,
        '/app/dist/client/cli.js',
        'worker',
        '--roles',
        'coder',
      ],
      env: { PATH: '/bin', MAESTRO_HOME: '/data', MALLOC_ARENA_MAX: '2', [RELAUNCHED_ENV]: '1' },
    });
  });

  it('keeps what the user set and adds only what is missing', () => {
    const userArena = relaunchPlan({ ...base, env: { MALLOC_ARENA_MAX: '4' } });
    expect(userArena?.env.MALLOC_ARENA_MAX).toBe('4');
    expect(userArena?.args).toContain(`--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`);
    const userSemi = relaunchPlan({ ...base, env: { NODE_OPTIONS: '--max-semi-space-size=32' } });
    expect(userSemi?.env.MALLOC_ARENA_MAX).toBe('2');
    expect(userSemi?.args).toEqual(['/app/dist/client/cli.js', 'worker']);
  });

  it('does not relaunch when both are set, when switched off, when already relaunched, on Windows, or for other commands', () => {
    const both = { MALLOC_ARENA_MAX: '2' };
    expect(relaunchPlan({ ...base, execArgv: ['--max-semi-space-size=8'], env: both })).toBeUndefined();
    expect(relaunchPlan({ ...base, env: { ...both, NODE_OPTIONS: '--max_semi_space_size=8' } })).toBeUndefined();
    expect(relaunchPlan({ ...base, env: { MAESTRO_WORKER_RELAUNCH: '0' } })).toBeUndefined();
    expect(relaunchPlan({ ...base, env: { [RELAUNCHED_ENV]: '1' } })).toBeUndefined();
    expect(relaunchPlan({ ...base, platform: 'win32', env: {} })).toBeUndefined();
    for (const command of ['dev', 'run', 'sim-llm', undefined]) {
      const argv = command ? [...base.argv.slice(0, 2), command] : base.argv.slice(0, 2);
      expect(relaunchPlan({ ...base, argv, env: {} })).toBeUndefined();
    }
  });

  it('refuses a MAESTRO_WORKER_RELAUNCH other than 0 or 1, saying what it takes', () => {
    expect(relaunchPlan({ ...base, env: { MAESTRO_WORKER_RELAUNCH: '1' } })).toBeDefined();
    expect(() => relaunchPlan({ ...base, env: { MAESTRO_WORKER_RELAUNCH: 'no' } })).toThrow(
      new RelaunchSettingError(
        'MAESTRO_WORKER_RELAUNCH must be 0 (one process, no memory settings added) or 1 (the default), not "no"',
      ),
    );
  });

  it('recognises the semi-space flag in either spelling, not look-alikes', () => {
    expect(semiSpaceSizeSet({ execArgv: ['--max-semi-space-size=8'], env: {} })).toBe(true);
    expect(semiSpaceSizeSet({ execArgv: [], env: { NODE_OPTIONS: '--inspect --max_semi_space_size=2' } })).toBe(true);
    expect(semiSpaceSizeSet({ execArgv: ['--max-old-space-size=512'], env: { NODE_OPTIONS: '' } })).toBe(false);
  });
});
