#!/usr/bin/env node
/**
 * The `maestro` executable. `maestro worker` may first relaunch itself with its memory settings
 * (worker-relaunch.ts); only then, in the process that does the work, the CLI's modules load.
 */
import type * as CliProgram from './cli-program';
import { EXIT } from './exit-codes';
import { dieWithLauncher, relaunch, relaunchPlan, RelaunchSettingError, type RelaunchPlan } from './worker-relaunch';

function planOrExit(): RelaunchPlan | undefined {
  try {
    return relaunchPlan({
      argv: process.argv,
      execArgv: process.execArgv,
      env: process.env,
      platform: process.platform,
    });
  } catch (err) {
    if (!(err instanceof RelaunchSettingError)) throw err;
    console.error(`maestro: ${err.message}`);
    process.exit(EXIT.badInput);
  }
}

if (require.main === module) {
  const plan = planOrExit();
  if (plan) relaunch(plan);
  else {
    dieWithLauncher();
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when not relaunching
    (require('./cli-program') as typeof CliProgram).runCli();
  }
}
