/**
 * The generated reference pages and where they go: one list, used by the script (main.ts) and by
 * the test that the checked-in pages are current (test/unit/docs-reference.test.ts).
 */
import { cliReference } from './cli';
import { configurationReference } from './configuration';
import { environmentReference } from './environment';

/** Page path (relative to the repository root) to its generated text. */
export function referencePages(): Record<string, string> {
  return {
    'docs/reference/cli.md': cliReference(),
    'docs/reference/configuration.md': configurationReference(),
    'docs/reference/environment.md': environmentReference(),
  };
}
