// A bundle built as the functions' are (CommonJS, whitespace and syntax minified, names kept, its
// map beside it) and run without Node.js's `--enable-source-maps`: its stack traces name the
// original files and lines, through the hook in shared/lambda/stack-traces.ts.

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedDirectory } from '#shared/lambda/stack-traces.ts';

const run = promisify(execFile);
const hook = fileURLToPath(new URL('../../shared/lambda/stack-traces.ts', import.meta.url));

let dir: string;
let bundle: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qw-stack-'));
  writeFileSync(
    join(dir, 'thrower.ts'),
    ['export function failDeeply(): never {', "  throw new Error('deliberate');", '}', ''].join('\n'),
  );
  writeFileSync(
    join(dir, 'entry.ts'),
    [
      `import ${JSON.stringify(hook)};`,
      "import { failDeeply } from './thrower.ts';",
      'export function capture(): string {',
      '  try {',
      '    failDeeply();',
      '  } catch (error) {',
      '    return String((error as Error).stack);',
      '  }',
      '}',
      'process.stdout.write(JSON.stringify({ hook: Error.prepareStackTrace?.name, stack: capture() }));',
      '',
    ].join('\n'),
  );
  bundle = join(dir, 'out', 'index.js');
  await build({
    entryPoints: [join(dir, 'entry.ts')],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: true,
    sourcesContent: false,
    logLevel: 'silent',
  });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function stackOf(nodeOptions = ''): Promise<{ hook: string; stack: string }> {
  const { stdout } = await run('node', [bundle], { env: { ...process.env, NODE_OPTIONS: nodeOptions } });
  return JSON.parse(stdout);
}

describe('stack traces of a bundle', () => {
  it('name the original files, lines and functions, mapped when first formatted', async () => {
    const { hook: installed, stack } = await stackOf();
    const frames = stack.split('\n');

    expect(installed).not.toBe('ErrorPrepareStackTrace');
    expect(frames[0]).toBe('Error: deliberate');
    expect(frames[1]).toMatch(/^ {4}at failDeeply \(\S*thrower\.ts:2:9\)$/);
    expect(frames[2]).toMatch(/^ {4}at capture \(\S*entry\.ts:5:5\)$/);
    expect(stack).not.toContain('index.js:');
    // Node.js's own frames are left as V8 writes them.
    expect(stack).toMatch(/\(node:internal\/[^)]+\)/);
  });

  it('stand aside where Node.js maps stacks itself (--enable-source-maps)', async () => {
    const { hook: installed, stack } = await stackOf('--enable-source-maps');

    expect(installed).toBe('ErrorPrepareStackTrace');
    expect(stack.split('\n')[1]).toMatch(/^ {4}at failDeeply \(\S*thrower\.ts:2:9\)$/);
  });

  it('are left as V8 writes them when the map is missing or damaged, never lost', async () => {
    for (const map of [undefined, 'not a source map']) {
      rmSync(`${bundle}.map`, { force: true });
      if (map) writeFileSync(`${bundle}.map`, map);
      const { stack } = await stackOf();

      expect(stack.split('\n')[0]).toBe('Error: deliberate');
      expect(stack.split('\n')[1]).toMatch(/^ {4}at failDeeply \(\S*index\.js:\d+:\d+\)$/);
    }
  });
});

describe("the directory a bundle's own sources share", () => {
  it('is the project as the build saw it, whatever node_modules holds', () => {
    expect(
      sharedDirectory([
        '../../../work/main/functions/scan.ts',
        '../../../work/main/shared/lambda/env.ts',
        '../../../work/main/node_modules/zod/v4/core/core.js',
      ]),
    ).toBe('../../../work/main/');
    expect(sharedDirectory(['../src/a.ts', '../src/deep/b.ts'])).toBe('../src/');
    expect(sharedDirectory(['a.ts', 'b.ts'])).toBe('');
    expect(sharedDirectory(['../node_modules/x/index.js'])).toBe('');
  });
});
