// Reads an admin config (YAML or JSON), validates it and compiles it. Every problem comes back as
// a ConfigError naming the key path (and the line, when the text has one).

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isNode, LineCounter, parseDocument } from 'yaml';
import type * as z from 'zod';
import { type CompiledConfig, ConfigError, type ConfigIssue, compileConfig } from './compile.ts';
import { configSchema, ID_PATTERN } from './schema.ts';

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

/** Parses and compiles config text; `source` names it in errors. */
export function parseConfig(text: string, source = 'config'): CompiledConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    // linePos is only filled in with prettyErrors (which quotes the source), so count lines here.
    const line = first ? lineCounter.linePos(first.pos[0]).line : undefined;
    throw new ConfigError([
      {
        path: '',
        message: `${source}${line ? ` line ${line}` : ''}: not valid YAML or JSON (${first?.code})`,
      },
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

  const input: unknown = doc.toJS();
  if (input === null || input === undefined) {
    throw new ConfigError([
      { path: '', message: `${source} is empty: a config needs at least ${requiredKeys().join(', ')}` },
    ]);
  }
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new ConfigError([
      {
        path: '',
        message: `${source} is not a mapping of keys to values (it is ${Array.isArray(input) ? 'a list' : 'a single value'}): a config needs ${requiredKeys().join(', ')}`,
      },
    ]);
  }
  // reportInput: zodIssues tells a missing key (input undefined) from one of the wrong type.
  const parsed = configSchema.safeParse(input, { reportInput: true });
  if (!parsed.success) throw new ConfigError(withLines(zodIssues(parsed.error)));
  try {
    return compileConfig(parsed.data);
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(withLines(error.issues), { cause: error });
    throw error;
  }
}

/** The top-level keys a config cannot do without (those with no default). */
function requiredKeys(): string[] {
  return Object.entries(configSchema.shape)
    .filter(([, schema]) => !schema.safeParse(undefined).success)
    .map(([key]) => key);
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
