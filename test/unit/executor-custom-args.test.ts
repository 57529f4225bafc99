/**
 * A custom executor's argument placeholders are filled once: a prompt (model-written ticket text)
 * that contains `{model}`, `{baseUrl}` or `{promptFile}` reaches the CLI as written.
 */
import { cliLaunch } from '../../src/activities/executor/cli-specs';

it('fills placeholders in one pass, never inside a substituted value', () => {
  const prompt = 'Write {model} and {promptFile} and {baseUrl} literally; also {prompt}';
  const launch = cliLaunch({
    agent: 'custom',
    program: '/bin/agent',
    customArgs: ['--task', '{prompt}', '--m={model}', '{promptFile}'],
    prompt,
    promptFile: '/tmp/ws/.maestro/prompt.md',
    home: '/tmp/home',
    model: 'gpt-x',
    token: 't',
    callTimeoutSec: 30,
  });
  expect(launch.argv).toEqual(['/bin/agent', '--task', prompt, '--m=gpt-x', '/tmp/ws/.maestro/prompt.md']);
});
