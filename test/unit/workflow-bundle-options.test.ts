/**
 * The workflow bundle preloads zod once per workflow thread (workflow-bundle-options.ts). The
 * preloaded copy is frozen by the SDK, so zod's lazily written global config (default locale,
 * memoizer) must already be set by the preload module, or the first schema a workflow builds
 * fails with "Cannot add property localeError, object is not extensible".
 */
import path from 'node:path';
import { workflowBundlerOptions } from '../../src/workers/workflow-bundle-options';

describe('workflow bundle options', () => {
  it('preloads a module that leaves zod fully configured before the SDK freezes it', async () => {
    const { preloadModules } = workflowBundlerOptions();
    expect(preloadModules).toEqual([path.join(__dirname, '..', '..', 'src', 'workflows', 'zod-preload.ts')]);
    await jest.isolateModulesAsync(async () => {
      const holder = globalThis as { __zod_globalConfig?: Record<string, unknown> };
      delete holder.__zod_globalConfig;
      await import(preloadModules![0]!);
      const config = holder.__zod_globalConfig!;
      // What the frozen copy can no longer take: everything zod sets on first use is set now.
      expect(typeof config.localeError).toBe('function');
      expect(config.memoizer).toBeDefined();
      Object.freeze(config);
      const { z } = await import('zod');
      const parsed = z.object({ by: z.string().min(1), tags: z.array(z.string()) }).safeParse({ by: '', tags: [1] });
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues.map((i) => i.message)).toEqual([
        'Too small: expected string to have >=1 characters',
        'Invalid input: expected string, received number',
      ]);
    });
  });
});
