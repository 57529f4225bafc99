/**
 * Structural guard of the message handlers: every signal and update defined in
 * src/shared/messages.ts is registered through onSignal/onUpdate (message-handlers.ts) with a
 * schema, and no workflow code registers a handler any other way. A new handler that skips
 * validation fails this test (and lint, which bans importing `setHandler` in workflow code).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as messages from '../../src/shared/messages';

const ROOT = path.join(__dirname, '..', '..', 'src');
const HELPER = path.join('workflows', 'message-handlers.ts');

/** Workflow-side sources (src/workflows and src/shared), by path relative to src/. */
function workflowSources(): Map<string, string> {
  const out = new Map<string, string>();
  for (const dir of ['workflows', 'shared'])
    for (const f of readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' }))
      if (f.endsWith('.ts')) out.set(path.join(dir, f), readFileSync(path.join(ROOT, dir, f), 'utf8'));
  return out;
}

/** Exports of messages.ts that define a signal or an update, by export name. */
const definitions = Object.entries(messages).filter(
  ([, v]) => typeof v === 'object' && v !== null && ['signal', 'update'].includes((v as { type?: string }).type ?? ''),
) as [string, { type: 'signal' | 'update'; name: string }][];

describe('message handlers', () => {
  it('finds the signals and updates of messages.ts', () => {
    expect(definitions.map(([, d]) => d.name).sort()).toEqual(
      [
        'approve',
        'decide',
        'maestro.epicProgress',
        'maestro.epicStop',
        'maestro.spendGrant',
        'maestro.spendReport',
        'maestro.spendRequest',
        'maestro.toolApprovalDecision',
        'maestro.toolApprovalRequest',
        'raiseBudget',
        'reject',
      ].sort(),
    );
  });

  it('registers no handler outside message-handlers.ts', () => {
    const offenders = [...workflowSources()]
      .filter(([file, text]) => file !== HELPER && /\bsetHandler\b/.test(text))
      .map(([file]) => file);
    expect(offenders).toEqual([]);
  });

  it.each(definitions)('%s is registered through onSignal/onUpdate with a schema', (exportName, def) => {
    const helper = def.type === 'signal' ? 'onSignal' : 'onUpdate';
    // `onSignal(approveSignal, DecisionPayload, ...)`: the definition, then a schema argument.
    const call = new RegExp(`\\b${helper}\\(\\s*${exportName}\\s*,\\s*([^,\\s][^,]*),`, 'g');
    const schemas = [...workflowSources().values()].flatMap((text) => [...text.matchAll(call)].map((m) => m[1]!));
    expect(schemas.length).toBeGreaterThan(0);
    for (const schema of schemas) expect(schema.trim()).not.toMatch(/^(undefined|null|\{\s*\}|z\.(any|unknown)\(\))$/);
  });
});
