// What every admin config goes through once its text is read, whatever the text's format: the
// checks on its shape (a mapping, no forbidden keys, no deep nesting), the schema, and compiling.
// No parser here: load.ts reads YAML (the CLI, with line numbers), json.ts the JSON the functions
// read (the pushed parameter, the shipped default), so a function's bundle never holds a YAML parser.

import { readFileSync } from 'node:fs';
import { ID_PATTERN } from '../domain/case.ts';
import { FORBIDDEN_KEYS } from '../domain/safe-keys.ts';
import type * as z from '../domain/zod.ts';
import { type CompiledConfig, ConfigError, type ConfigIssue, compileConfig } from './compile.ts';
import { configSchema } from './schema.ts';

/** Deeper than any real config (its deepest key is four levels down). */
export const MAX_DEPTH = 32;

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>(
    (out, part) =>
      typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part),
    '',
  );
}

/** Runs `read` and turns any failure at all into a ConfigError: the runtime keeps its last good
 * config only on a ConfigError, whatever the text (an alias bomb, deep nesting, binary noise). */
export function asConfigError<T>(source: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const reason =
      error instanceof RangeError && /call stack/i.test(error.message)
        ? 'is nested too deeply to read'
        : `cannot be read (${error instanceof Error ? error.name : typeof error})`;
    throw new ConfigError([{ path: '', message: `${source} ${reason}` }], { cause: error });
  }
}

/** The top-level keys a config cannot do without (those without a default). Computed on first use,
 * not at import: it runs the schema once per key. */
let requiredKeys: string[] | undefined;
function required(): string[] {
  requiredKeys ??= Object.entries(configSchema.shape)
    .filter(([, schema]) => !schema.safeParse(undefined).success)
    .map(([key]) => key);
  return requiredKeys;
}

/**
 * Validates and compiles a parsed config. `describe` adds what the parser knows about a path (the
 * YAML reader adds its line); it receives every issue, its path already labelled with the rule's id.
 */
export function configFromValue(
  value: unknown,
  source: string,
  describe: (issue: ConfigIssue, rawPath: string) => ConfigIssue = (issue) => issue,
): CompiledConfig {
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
        message: `${source} ${found}: a config is a mapping of keys, and needs ${required().join(', ')}`,
      },
    ]);
  }
  const described = (issues: ConfigIssue[]) =>
    issues.map((issue) => describe({ ...issue, path: labelledPath(value, issue.path) }, issue.path));

  const shapeProblems = unsafeKeys(value);
  if (shapeProblems.length > 0) throw new ConfigError(described(shapeProblems));

  // reportInput: zodIssues tells a missing key (input undefined) from one of the wrong type.
  const parsed = configSchema.safeParse(value, { reportInput: true });
  if (!parsed.success) throw new ConfigError(described(zodIssues(parsed.error)));
  try {
    return compileConfig(parsed.data);
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(described(error.issues), { cause: error });
    throw error;
  }
}

/** A rule is named by its id as well as its position: `rules[3] (da-high).warn`. Only an id that is
 * valid is repeated (an invalid one is itself the issue). */
export function labelledPath(config: unknown, path: string): string {
  return path.replace(/^rules\[(\d+)\]/, (whole, index: string) => {
    const rules: unknown = (config as { rules?: unknown } | null)?.rules;
    const rule: unknown = Array.isArray(rules) ? rules[Number(index)] : undefined;
    const id: unknown = typeof rule === 'object' && rule !== null ? (rule as { id?: unknown }).id : undefined;
    return typeof id === 'string' && ID_PATTERN.test(id) ? `${whole} (${id})` : whole;
  });
}

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

export function zodIssues(error: z.core.$ZodError): ConfigIssue[] {
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

/** A config file's text; a failure to read it is a ConfigReadError naming the file, and a file that
 * is not UTF-8 text an invalid config. */
export function readConfigFile(path: string): string {
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
  // UTF-16 (what some Windows editors save as "Unicode") has a NUL in every other byte of ASCII.
  if (text.includes('\u0000')) {
    throw new ConfigError([
      {
        path: '',
        message: `${path} is not UTF-8 text (it has NUL bytes: saved as UTF-16, "Unicode"?): save it as UTF-8`,
      },
    ]);
  }
  return text;
}
