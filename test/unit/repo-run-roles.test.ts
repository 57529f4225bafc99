/**
 * The team of `maestro run --repo`: a configured team whose roles work on files themselves (with
 * tools, or with a coding-agent CLI) is kept; a team of single-call roles is replaced by
 * REPO_ROLES. A Coder configured as Codex must not silently become Maestro's own agent.
 */
import { repoRunRoles } from '../../src/client/repo-run';
import type { MaestroConfig } from '../../src/config';
import { DEFAULT_ROLES, REPO_ROLES } from '../../src/shared/roles';

const llm = { workerModel: 'm' } as MaestroConfig['llm'];
const team = (coder: object): Pick<MaestroConfig, 'roles' | 'llm'> => ({
  llm,
  roles: DEFAULT_ROLES.map<MaestroConfig['roles'][number]>((r) => (r.name === 'coder' ? { ...r, ...coder } : r)),
});

test('a team of single-call roles gets the repo team', () => {
  expect(repoRunRoles(team({}))?.map((r) => r.name)).toEqual(REPO_ROLES.map((r) => r.name));
});

test('a team with an agent that has tools is kept', () => {
  expect(repoRunRoles(team({ agent: { tools: ['read_file'] } }))).toBeUndefined();
});

test('a team whose Coder is a coding-agent CLI is kept (its executor reaches the tickets)', () => {
  expect(repoRunRoles(team({ executor: { agent: 'codex' } }))).toBeUndefined();
});
