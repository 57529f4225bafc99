/** The SDK logger drops only the role workers' "No workflows registered" warning (issue 22, item 10). */
import type { Logger, LogLevel } from '@temporalio/worker';
import { MaestroSdkLogger, NO_WORKFLOWS_WARNING } from '../../src/workers/sdk-logger';

function recorder(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = (level: LogLevel, message: string) => lines.push(`${level} ${message}`);
  return {
    lines,
    logger: {
      log,
      trace: (m) => log('TRACE', m),
      debug: (m) => log('DEBUG', m),
      info: (m) => log('INFO', m),
      warn: (m) => log('WARN', m),
      error: (m) => log('ERROR', m),
    },
  };
}

test('drops exactly that warning and forwards every other message, at every level', () => {
  const { logger, lines } = recorder();
  const quiet = new MaestroSdkLogger(logger);
  quiet.warn(NO_WORKFLOWS_WARNING, { taskQueue: 'maestro-role-coder' });
  quiet.log('WARN', NO_WORKFLOWS_WARNING);
  quiet.warn(`${NO_WORKFLOWS_WARNING}!`);
  quiet.warn('Worker failed to poll');
  quiet.error('boom');
  quiet.info('hello');
  quiet.debug('d');
  quiet.trace('t');
  expect(lines).toEqual([
    `WARN ${NO_WORKFLOWS_WARNING}!`,
    'WARN Worker failed to poll',
    'ERROR boom',
    'INFO hello',
    'DEBUG d',
    'TRACE t',
  ]);
});
