/** The pre-built workflow bundle keeps its source map's mappings and drops the sources' text. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { withoutSourcesContent } from '../../src/dev/bundle-workflows';

const PREFIX = '//# sourceMappingURL=data:application/json;charset=utf-8;base64,';
const mapOf = (code: string) =>
  JSON.parse(Buffer.from(code.slice(code.lastIndexOf(PREFIX) + PREFIX.length), 'base64').toString('utf8')) as Record<
    string,
    unknown
  >;

describe('withoutSourcesContent', () => {
  it('removes sourcesContent and keeps the code, sources and mappings', () => {
    const map = { version: 3, sources: ['a.ts'], sourcesContent: ['const a = 1;'], mappings: 'AAAA', file: 'b.js' };
    const code = `var a = 1;\n${PREFIX}${Buffer.from(JSON.stringify(map)).toString('base64')}`;
    const out = withoutSourcesContent(code);
    expect(out.startsWith('var a = 1;\n')).toBe(true);
    expect(mapOf(out)).toEqual({ version: 3, sources: ['a.ts'], mappings: 'AAAA', file: 'b.js' });
  });

  it("names the sources relative to the bundle's folder, not by the build machine's absolute paths", () => {
    const map = {
      version: 3,
      sources: ['/home/ci/maestro/src/workflows/run.ts', 'webpack/bootstrap'],
      mappings: 'AAAA',
    };
    const code = `var a = 1;\n${PREFIX}${Buffer.from(JSON.stringify(map)).toString('base64')}`;
    expect(mapOf(withoutSourcesContent(code, '/home/ci/maestro/dist')).sources).toEqual([
      '../src/workflows/run.ts',
      'webpack/bootstrap',
    ]);
  });

  it('leaves code without an inline map as it is', () => {
    expect(withoutSourcesContent('var a = 1;')).toBe('var a = 1;');
  });

  const prebuilt = path.join(__dirname, '..', '..', 'dist', 'workflow-bundle.js');
  (existsSync(prebuilt) ? it : it.skip)('the bundle `npm run build` writes has mappings but no sources text', () => {
    const map = mapOf(readFileSync(prebuilt, 'utf8'));
    expect(map.sourcesContent).toBeUndefined();
    expect(String(map.mappings).length).toBeGreaterThan(1000);
    // The package ships this file: no path of the machine that built it.
    expect((map.sources as string[]).filter((s) => path.isAbsolute(s))).toEqual([]);
  });
});
