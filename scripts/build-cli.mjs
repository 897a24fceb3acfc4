// Compiles the CLI (shared/cli/main.ts) into dist/cli with esbuild, so `queuewatch` starts on plain
// node, without a TypeScript loader. Run by `npm ci` (the prepare script), `npm run build` and the
// test setup. Packages stay external: they are runtime dependencies, loaded from node_modules.
// Code splitting lets each command load its heavy modules (AWS SDK, dynalite) only when it runs.

import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Builds dist/cli afresh; returns the files written and their total size in bytes. */
export async function buildCli() {
  // Afresh: old chunks with other hashes would otherwise pile up beside the new ones.
  rmSync(`${root}dist/cli`, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: ['shared/cli/main.ts'],
    // The chunks sit two folders below the root, as the sources do, so that paths built from
    // import.meta.url (the shipped config) resolve the same from the bundle.
    outdir: 'dist/cli',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
  });
  const outputs = Object.entries(result.metafile.outputs).filter(([file]) => file.endsWith('.js'));
  return { files: outputs.length, bytes: outputs.reduce((sum, [, output]) => sum + output.bytes, 0) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const { files, bytes } = await buildCli();
  // --quiet at install and before `npm start`, whose own output is what the reader wants.
  if (!process.argv.includes('--quiet')) {
    process.stdout.write(
      `built dist/cli: ${files} files, ${Math.round(bytes / 1024)} KB, in ${Math.round(performance.now() - started)} ms\n`,
    );
  }
}
