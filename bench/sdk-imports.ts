// The AWS SDK import statements of a bundle, on their own: the cold start's baseline imports the SDK
// clients exactly as the function does (the same static `import` statements, same names), without
// our code. On Node.js 20 a static import of the SDK's CommonJS packages costs 20 to 40 ms more than
// a dynamic `import()` of the same packages, so a baseline loaded the dynamic way charged that
// difference to our code (see README "Performance", row 6).

import { init, parse } from 'es-module-lexer';

/** The bundle's static imports of `@aws-sdk/*`, one a line, ready to run as a module of their own.
 * Throws on an SDK module the bundle reaches some other way, rather than leave it out. */
export async function sdkImportStatements(bundle: string): Promise<{ source: string; modules: string[] }> {
  await init;
  const [imports] = parse(bundle);
  const statements: string[] = [];
  const modules = new Set<string>();
  for (const entry of imports) {
    if (!entry.n?.startsWith('@aws-sdk/')) continue;
    const statement = bundle.slice(entry.ss, entry.se);
    if (entry.d !== -1 || !statement.startsWith('import')) {
      throw new Error(
        `the bundle reaches ${entry.n} other than by an import statement (${statement.slice(0, 60)}): ` +
          'the baseline of bench row 6 (bench/sdk-imports.ts) would leave it out',
      );
    }
    statements.push(`${statement};\n`);
    modules.add(entry.n);
  }
  return { source: statements.join(''), modules: [...modules].sort() };
}
