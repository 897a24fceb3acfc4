// Reads an admin config (YAML or JSON), validates it and compiles it. Every problem comes back as
// a ConfigError naming the key path (and the line, when the text has one).

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isNode, LineCounter, parseDocument } from 'yaml';
import type * as z from 'zod';
import { ID_PATTERN } from '../domain/case.ts';
import { FORBIDDEN_KEYS } from '../domain/safe-keys.ts';
import { type CompiledConfig, ConfigError, type ConfigIssue, compileConfig } from './compile.ts';
import { configSchema } from './schema.ts';

export const DEFAULT_CONFIG_PATH = fileURLToPath(new URL('../../config/queuewatch.yaml', import.meta.url));

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>(
    (out, part) =>
      typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part),
    '',
  );
}

function parsePath(path: string): Array<string | number> {
  return [...path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) =>
    m[2] !== undefined ? Number(m[2]) : (m[1] ?? ''),
  );
}

/** Parses and compiles config text; `source` names it in errors. Every failure is a ConfigError,
 * whatever the text (an alias bomb, deep nesting, an empty file): the runtime keeps its last good
 * config only on a ConfigError. */
export function parseConfig(text: string, source = 'config'): CompiledConfig {
  try {
    return parseConfigText(text, source);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const reason =
      error instanceof RangeError && /call stack/i.test(error.message)
        ? 'is nested too deeply to read'
        : `cannot be read (${error instanceof Error ? error.name : typeof error})`;
    throw new ConfigError([{ path: '', message: `${source} ${reason}` }], { cause: error });
  }
}

/** Deeper than any real config (its deepest key is four levels down). */
const MAX_DEPTH = 32;

function parseConfigText(text: string, source: string): CompiledConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    // linePos is only filled in with prettyErrors (which quotes the source), so count lines here.
    const line = first ? lineCounter.linePos(first.pos[0]).line : undefined;
    const what =
      first?.code === 'RESOURCE_EXHAUSTION' ? 'nested too deeply to read' : 'not valid YAML or JSON';
    throw new ConfigError([
      { path: '', message: `${source}${line ? ` line ${line}` : ''}: ${what} (${first?.code})` },
    ]);
  }
  const lineOf = (path: string): number | undefined => {
    const parts = parsePath(path);
    for (let n = parts.length; n > 0; n--) {
      const node = doc.getIn(parts.slice(0, n), true);
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  };
  // A rule is named by its id as well as its position: `rules[3] (da-high).warn`. Only an id that
  // is valid is repeated (an invalid one is itself the issue).
  const labelled = (path: string): string =>
    path.replace(/^rules\[(\d+)\]/, (whole, index: string) => {
      const id: unknown = doc.getIn(['rules', Number(index), 'id']);
      return typeof id === 'string' && ID_PATTERN.test(id) ? `${whole} (${id})` : whole;
    });
  const withLines = (issues: ConfigIssue[]) =>
    issues.map((issue) => {
      const line = issue.path ? lineOf(issue.path) : undefined;
      return {
        path: labelled(issue.path),
        message: line ? `${issue.message} (${source} line ${line})` : issue.message,
      };
    });

  let value: unknown;
  try {
    value = doc.toJS();
  } catch (error) {
    // The yaml library's guard against an alias bomb (a few lines that expand to billions of nodes).
    if (!(error instanceof ReferenceError && /alias/i.test(error.message))) throw error;
    throw new ConfigError(
      [{ path: '', message: `${source} expands too many YAML aliases (*name); write the values out` }],
      { cause: error },
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const found =
      value === null || value === undefined
        ? 'is empty'
        : Array.isArray(value)
          ? 'is a list'
          : 'is a single value';
    throw new ConfigError([
      {
        path: '',
        message: `${source} ${found}: a config is a mapping of keys, and needs ${REQUIRED_KEYS.join(', ')}`,
      },
    ]);
  }
  const shapeProblems = unsafeKeys(value);
  if (shapeProblems.length > 0) throw new ConfigError(withLines(shapeProblems));

  // reportInput: zodIssues tells a missing key (input undefined) from one of the wrong type.
  const parsed = configSchema.safeParse(value, { reportInput: true });
  if (!parsed.success) throw new ConfigError(withLines(zodIssues(parsed.error)));
  try {
    return compileConfig(parsed.data);
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(withLines(error.issues), { cause: error });
    throw error;
  }
}

/** The top-level keys a config cannot do without (those without a default). */
const REQUIRED_KEYS = Object.entries(configSchema.shape)
  .filter(([, schema]) => !schema.safeParse(undefined).success)
  .map(([key]) => key);

/** Keys that would vanish or misbehave in a plain object (`__proto__` in a `districts` map is
 * dropped without a word by the schema), and nesting deeper than any config has. Iterative, so no
 * input can exhaust the stack here. */
function unsafeKeys(root: object): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const stack: Array<{ value: object; path: Array<string | number> }> = [{ value: root, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop() as { value: object; path: Array<string | number> };
    if (path.length > MAX_DEPTH) {
      issues.push({ path: formatPath(path), message: `is nested more than ${MAX_DEPTH} levels deep` });
      continue;
    }
    const entries: Array<[string | number, unknown]> = Array.isArray(value)
      ? value.map((item, i) => [i, item])
      : Object.entries(value);
    for (const [key, child] of entries) {
      if (typeof key === 'string' && FORBIDDEN_KEYS.has(key)) {
        issues.push({ path: formatPath([...path, key]), message: `the key ${key} is not allowed` });
      } else if (typeof child === 'object' && child !== null) {
        stack.push({ value: child, path: [...path, key] });
      }
    }
  }
  return issues;
}

export function zodIssues(error: z.ZodError): ConfigIssue[] {
  return error.issues.flatMap((issue) =>
    // One issue per unknown key, with the key in the path, so its line can be found (a top-level
    // unknown key otherwise has an empty path and no line).
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ path: formatPath([...issue.path, key]), message: `unknown key '${key}'` }))
      : [
          {
            path: formatPath(issue.path),
            message:
              issue.code === 'invalid_type' && issue.input === undefined ? 'is missing' : issue.message,
          },
        ],
  );
}

/** The config file itself cannot be read (missing, a directory, no permission). */
export class ConfigReadError extends ConfigError {
  override name = 'ConfigReadError';
}

/** Loads a config file (the shipped default when no path is given). */
export function loadConfig(path: string = DEFAULT_CONFIG_PATH): CompiledConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigReadError(
      [{ path: '', message: `cannot read config ${path}: ${code === 'ENOENT' ? 'no such file' : code}` }],
      { cause: error },
    );
  }
  return parseConfig(text, path);
}
