/**
 * `npm run test:cluster`: the end-to-end scenarios against the Go-built Temporal server on
 * PostgreSQL (test/cluster/). Separate from `npm test` (jest.config.js ignores test/cluster/) because
 * the first run builds the server from source.
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test/cluster'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  testTimeout: 600000,
  maxWorkers: 1,
  verbose: true,
};
