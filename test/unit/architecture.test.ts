// The import rule of the house, enforced: the domain imports nothing outside itself, a use case
// reaches AWS only through its composition roots, and the folders under shared/ import each other
// one way (no cycles). README "Architecture" explains the layers this checks.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const SHARED = join(ROOT, 'shared');

/** npm packages the domain may import: pure, no I/O, no clock. */
const DOMAIN_PACKAGES = ['zod', 'pure-rand', 'sms-segments-calculator'];

/** Folders of use cases and the pure layers they lean on: none of them may import the AWS SDK or
 * shared/adapters, except in the composition roots below. The entry layer (cli, local, lambda, and
 * wiring: the composition roots of the deployed functions) and the adapters are outside this rule. */
const USE_CASE_FOLDERS = [
  'scan',
  'ingest',
  'digest',
  'signals',
  'ack',
  'app',
  'config',
  'delivery',
  'io',
  'generate',
];

/** Files inside use-case folders that wire adapters to the use case: the only places there that
 * may import the AWS SDK or shared/adapters. In the folder graph they count as the entry layer. */
const COMPOSITION_ROOTS: Record<string, string> = {
  'shared/ingest/import.ts': 'the bulk import reads and writes the mirror by DynamoDB batch calls itself',
  'shared/digest/preview.ts':
    'runs the real digest with in-memory adapters (what it shows is what a run sends)',
  'shared/app/evaluate.ts': 'runs the real scan with in-memory adapters (what it shows is what a run sends)',
};

const ENTRY = '(entry)';

interface Import {
  file: string;
  specifier: string;
  /** The imported file relative to ROOT, for imports inside the repository. */
  target?: string;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

// Static imports and re-exports (one or several lines) and dynamic import('...').
const IMPORT =
  /(?:^|[;\s])(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The imports of a source text, comments left out (so an import in a comment is not one). */
function importsOf(file: string, source: string): Import[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  return [...code.matchAll(IMPORT)].map((m) => {
    const specifier = (m[1] ?? m[2]) as string;
    const absolute = specifier.startsWith('.')
      ? resolve(dirname(join(ROOT, file)), specifier)
      : specifier.startsWith('#shared/')
        ? join(SHARED, specifier.slice('#shared/'.length))
        : undefined;
    return absolute === undefined
      ? { file, specifier }
      : { file, specifier, target: relative(ROOT, absolute) };
  });
}

/** The folder of a file under shared/ ('domain' for shared/domain/silence/x.ts), the entry layer for
 * a composition root, undefined outside shared/. */
function folderOf(path: string): string | undefined {
  if (COMPOSITION_ROOTS[path] !== undefined) return ENTRY;
  const parts = path.split('/');
  return parts[0] === 'shared' && parts.length > 2 ? parts[1] : undefined;
}

const isAwsSdk = (specifier: string) => specifier.startsWith('@aws-sdk/');
const packageOf = (specifier: string) =>
  specifier.startsWith('@')
    ? specifier.split('/').slice(0, 2).join('/')
    : (specifier.split('/')[0] as string);

function domainViolations(imports: readonly Import[]): string[] {
  return imports
    .filter((i) => i.file.startsWith('shared/domain/'))
    .filter((i) =>
      i.target !== undefined
        ? !i.target.startsWith('shared/domain/')
        : !DOMAIN_PACKAGES.includes(packageOf(i.specifier)),
    )
    .map((i) => `${i.file} imports ${i.specifier}`);
}

function useCaseViolations(imports: readonly Import[]): string[] {
  return imports
    .filter((i) => USE_CASE_FOLDERS.includes(folderOf(i.file) ?? ''))
    .filter((i) => isAwsSdk(i.specifier) || i.target?.startsWith('shared/adapters/'))
    .map((i) => `${i.file} imports ${i.specifier}`);
}

/** Every cycle among the folders under shared/, each as a path of folders with the import that
 * makes each step ("scan -> adapters (shared/scan/x.ts imports ../adapters/y.ts) -> scan"). */
function folderCycles(imports: readonly Import[]): string[] {
  const edges = new Map<string, Map<string, Import>>();
  for (const i of imports) {
    const from = folderOf(i.file);
    const to = i.target === undefined ? undefined : folderOf(i.target);
    if (from === undefined || to === undefined || from === to) continue;
    const out = edges.get(from) ?? new Map<string, Import>();
    if (!out.has(to)) out.set(to, i);
    edges.set(from, out);
  }
  // One cycle per strongly connected component is enough to name the problem; Tarjan finds them.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const components: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v) as number);
    stack.push(v);
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop() as string;
        component.push(w);
      } while (w !== v);
      if (component.length > 1) components.push(component);
    }
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) visit(v);
  return components.map((component) => {
    // A shortest way back to the start, inside the component (breadth first).
    const start = [...component].sort()[0] as string;
    const previous = new Map<string, string>();
    const queue = [start];
    let end: string | undefined;
    while (queue.length > 0 && end === undefined) {
      const v = queue.shift() as string;
      for (const w of edges.get(v)?.keys() ?? []) {
        if (!component.includes(w)) continue;
        if (w === start) {
          end = v;
          break;
        }
        if (!previous.has(w)) {
          previous.set(w, v);
          queue.push(w);
        }
      }
    }
    const path = [end as string];
    while (path[0] !== start) path.unshift(previous.get(path[0] as string) as string);
    path.push(start);
    return path
      .slice(1)
      .map((to, k) => {
        const from = path[k] as string;
        const via = edges.get(from)?.get(to) as Import;
        return `${from} -> ${to} (${via.file} imports ${via.specifier})`;
      })
      .join(', ');
  });
}

const allImports = (): Import[] =>
  [...tsFiles(SHARED), ...tsFiles(join(ROOT, 'functions'))].flatMap((path) =>
    importsOf(relative(ROOT, path), readFileSync(path, 'utf8')),
  );

/** Packages a deployed function never loads, and why: each would add to its bundle and its cold start. */
const NOT_IN_FUNCTIONS: Record<string, string> = {
  yaml: 'the functions read configs as JSON (shared/config/json.ts); YAML is read by the CLI and the synth',
  '@aws-lambda-powertools/tracer':
    "Lambda's active tracing records each invocation; the X-Ray SDK it loads was a quarter of a function's own import time (README Observe)",
  'aws-xray-sdk-core': 'as the Powertools tracer (README Observe)',
};

/** A value (not type-only) import: what esbuild keeps in a bundle. */
const VALUE_IMPORT =
  /(?:^|[;\s])(?:import|export)\s+(?!type\s)(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Each package a function's entry reaches through value imports, with the chain of files that
 * brings it in ("functions/scan.ts -> shared/wiring/scan.ts -> ... imports yaml"). */
function packagesReached(entry: string): Map<string, string> {
  return reach(entry).packages;
}

/** The files a function's entry reaches through value imports, and the packages they import. */
function reach(entry: string): { files: string[]; packages: Map<string, string> } {
  const reached = new Map<string, string>();
  const via = new Map<string, string>([[entry, entry]]);
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift() as string;
    for (const specifier of valueImports(file)) {
      const target = importsOf(file, `import '${specifier}';`)[0]?.target;
      if (target !== undefined) {
        if (!via.has(target)) {
          via.set(target, `${via.get(file)} -> ${target}`);
          queue.push(target);
        }
      } else if (!specifier.startsWith('node:') && !reached.has(packageOf(specifier))) {
        reached.set(packageOf(specifier), `${via.get(file)} imports ${specifier}`);
      }
    }
  }
  return { files: [...via.keys()], packages: reached };
}

/** The specifiers of a file's value imports. */
function valueImports(file: string): string[] {
  const code = readFileSync(join(ROOT, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  return [...code.matchAll(VALUE_IMPORT)].map((m) => (m[1] ?? m[2]) as string);
}

/** The functions that write an SMS, and so count its segments (sms-segments-calculator and the
 * grapheme splitter it loads, 37 KB of a bundle): the rest (ingest, the digest's email, the
 * acknowledgement page) list cases through domain/alert-line.ts without it. */
const SMS_WRITERS = ['scan.ts', 'signals.ts'];

/** The one file that imports zod's mini build for the code the functions load (and sets its messages). */
const ZOD_WRAPPER = 'shared/domain/zod.ts';

/** A formatter made when its module loads: `Intl`'s first use loads ICU's data, about 20 ms. */
const INTL_AT_LOAD = /^(?:export\s+)?(?:const|let|var)\s+[\w$]+\s*=\s*new\s+Intl\./m;

describe('what a deployed function loads', () => {
  const entries = readdirSync(join(ROOT, 'functions')).filter((f) => f.endsWith('.ts'));

  it('walks each function from its entry to the packages it imports', () => {
    expect(entries).toContain('scan.ts');
    expect([...packagesReached('functions/scan.ts').keys()]).toEqual(
      expect.arrayContaining(['zod', '@aws-sdk/client-dynamodb']),
    );
  });

  it.each(Object.entries(NOT_IN_FUNCTIONS))('keeps %s out of every function (%s)', (name) => {
    const chains = entries.flatMap((entry) => {
      const chain = packagesReached(`functions/${entry}`).get(name);
      return chain === undefined ? [] : [chain];
    });

    expect(chains).toEqual([]);
  });

  it("loads zod's mini build only, through shared/domain/zod.ts (the classic build is 2.5 to 3 times the bytes in a bundle)", () => {
    const found = entries.flatMap((entry) =>
      reach(`functions/${entry}`).files.flatMap((file) =>
        valueImports(file)
          .filter((specifier) => packageOf(specifier) === 'zod')
          .filter(
            (specifier) => file !== ZOD_WRAPPER || !['zod/mini', 'zod/v4/locales/en.js'].includes(specifier),
          )
          .map((specifier) => `functions/${entry} reaches ${file}, which imports ${specifier}`),
      ),
    );

    expect(found).toEqual([]);
  });

  it('loads the SMS segment counter only in the functions that write an SMS (scan, signals)', () => {
    const chains = entries
      .filter((entry) => !SMS_WRITERS.includes(entry))
      .flatMap((entry) => packagesReached(`functions/${entry}`).get('sms-segments-calculator') ?? []);

    expect(chains).toEqual([]);
    expect(
      SMS_WRITERS.map((entry) => packagesReached(`functions/${entry}`).has('sms-segments-calculator')),
    ).toEqual([true, true]);
  });

  it('makes no Intl formatter as a module loads (London times are written by shared/domain/calendar.ts)', () => {
    const found = entries.flatMap((entry) =>
      reach(`functions/${entry}`)
        .files.filter((file) => INTL_AT_LOAD.test(readFileSync(join(ROOT, file), 'utf8')))
        .map((file) => `functions/${entry} reaches ${file}`),
    );

    expect(found).toEqual([]);
  });
});

describe('the import rule', () => {
  const imports = allImports();

  it('reads the imports of every file under shared/ and functions/', () => {
    expect(imports.some((i) => i.file === 'functions/scan.ts')).toBe(true);
    expect(imports.some((i) => i.file.startsWith('shared/domain/') && i.target !== undefined)).toBe(true);
  });

  it('keeps the domain pure: it imports only itself and a few pure packages', () => {
    expect(domainViolations(imports)).toEqual([]);
  });

  it('keeps the AWS SDK and the adapters out of the use cases, but for their composition roots', () => {
    expect(useCaseViolations(imports)).toEqual([]);
  });

  it('finds no cycle among the folders under shared/', () => {
    expect(folderCycles(imports)).toEqual([]);
  });

  it('lists only composition roots that exist and need the exception', () => {
    const needed = new Set(
      imports
        .filter((i) => COMPOSITION_ROOTS[i.file] !== undefined)
        .filter((i) => isAwsSdk(i.specifier) || i.target?.startsWith('shared/adapters/'))
        .map((i) => i.file),
    );
    expect(Object.keys(COMPOSITION_ROOTS).filter((file) => !needed.has(file))).toEqual([]);
  });
});

describe('the checks themselves', () => {
  const parse = (file: string, source: string) => importsOf(file, source);

  it('reads multi-line, type-only, re-export and dynamic imports, and skips comments', () => {
    const source = [
      "import {\n  a,\n  type B,\n} from '../adapters/ledger.ts';",
      "import type { C } from '@aws-sdk/client-sns';",
      "export { D } from './levels.ts';",
      "const e = await import('#shared/config/load.ts');",
      "// import { F } from '../cli/program.ts';",
    ].join('\n');
    expect(parse('shared/domain/x.ts', source).map((i) => i.target ?? i.specifier)).toEqual([
      'shared/adapters/ledger.ts',
      '@aws-sdk/client-sns',
      'shared/domain/levels.ts',
      'shared/config/load.ts',
    ]);
  });

  it('names the file and the import of a domain file reaching outside the domain', () => {
    const imports = parse(
      'shared/domain/x.ts',
      "import { z } from 'zod';\nimport { a } from '../config/schema.ts';",
    );
    expect(domainViolations(imports)).toEqual(['shared/domain/x.ts imports ../config/schema.ts']);
  });

  it('names a use case importing the SDK or an adapter, and lets a composition root do it', () => {
    const imports = [
      ...parse('shared/scan/decide.ts', "import { SNSClient } from '@aws-sdk/client-sns';"),
      ...parse('shared/digest/run-digest.ts', "import { DynamoLedger } from '../adapters/ledger.ts';"),
      ...parse('shared/ingest/import.ts', "import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';"),
    ];
    expect(useCaseViolations(imports)).toEqual([
      'shared/scan/decide.ts imports @aws-sdk/client-sns',
      'shared/digest/run-digest.ts imports ../adapters/ledger.ts',
    ]);
  });

  it('reports a folder cycle as its path with the import of each step', () => {
    const imports = [
      ...parse('shared/scan/decide.ts', "import { a } from '../adapters/ledger.ts';"),
      ...parse('shared/adapters/ledger.ts', "import { b } from '../ingest/ports.ts';"),
      ...parse('shared/ingest/ports.ts', "import { c } from '../scan/ports.ts';"),
      ...parse('shared/scan/aws.ts', "import { d } from '../adapters/ledger.ts';"),
    ];
    expect(folderCycles(imports)).toEqual([
      'adapters -> ingest (shared/adapters/ledger.ts imports ../ingest/ports.ts), ' +
        'ingest -> scan (shared/ingest/ports.ts imports ../scan/ports.ts), ' +
        'scan -> adapters (shared/scan/decide.ts imports ../adapters/ledger.ts)',
    ]);
  });
});
