// Reads an admin config written by a person (YAML or JSON), validates it and compiles it. Every
// problem comes back as a ConfigError naming the key path and the line. The CLI and the CDK app
// read configs here; the deployed functions read only JSON (json.ts), so their bundles hold no
// YAML parser: `configJson` is how a config becomes that JSON (config push, the synth).

import { fileURLToPath } from 'node:url';
import { type Document, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument, visit } from 'yaml';
import { type CompiledConfig, ConfigError, type ConfigIssue } from './compile.ts';
import { asConfigError, configFromValue, labelledPath, readConfigFile } from './validate.ts';

export { ConfigReadError, formatPath, zodIssues } from './validate.ts';

import { formatPath } from './validate.ts';

export const DEFAULT_CONFIG_PATH = fileURLToPath(new URL('../../config/queuewatch.yaml', import.meta.url));

function parsePath(path: string): Array<string | number> {
  return [...path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) =>
    m[2] !== undefined ? Number(m[2]) : (m[1] ?? ''),
  );
}

/** Parses and compiles config text; `source` names it in errors. Every failure is a ConfigError,
 * whatever the text (an alias bomb, deep nesting, an empty file): the runtime keeps its last good
 * config only on a ConfigError. */
export function parseConfig(text: string, source = 'config'): CompiledConfig {
  return asConfigError(source, () => {
    const { value, lineOf } = readYaml(text, source);
    return configFromValue(value, source, withLine(source, lineOf));
  });
}

/** Adds the line a key path starts on to an issue's message. */
const withLine =
  (source: string, lineOf: (path: string) => number | undefined) =>
  (issue: ConfigIssue, rawPath: string): ConfigIssue => {
    const line = rawPath ? lineOf(rawPath) : undefined;
    return line ? { ...issue, message: `${issue.message} (${source} line ${line})` } : issue;
  };

/** The path (`districts.D01`, `routes[2].audiences`) of the key that starts at this offset. */
function keyPathAt(doc: Document, offset: number): Array<string | number> | undefined {
  let found: Array<string | number> | undefined;
  visit(doc, {
    Pair(_, pair, ancestors) {
      if (!isScalar(pair.key) || pair.key.range?.[0] !== offset) return undefined;
      const chain = [...ancestors, pair];
      const parts: Array<string | number> = [];
      chain.forEach((node, i) => {
        if (isPair(node) && isScalar(node.key)) parts.push(String(node.key.value));
        else if (isSeq(node)) parts.push(node.items.indexOf(chain[i + 1] as never));
      });
      found = parts;
      return visit.BREAK;
    },
  });
  return found;
}

/** The yaml library's error codes, in words, for those people run into (the code follows, for a
 * search); never quoting the text, which may hold anything. */
const YAML_PROBLEMS: Record<string, string> = {
  TAB_AS_INDENT: 'a tab in the indentation (YAML indents with spaces only)',
  MISSING_CHAR: 'something is missing: a closing bracket, brace or quote, or a comma',
  BAD_INDENT: 'indentation that does not line up with the lines around it',
  UNEXPECTED_TOKEN: 'a character where none can go (a stray one, or a missing comma or colon)',
  BLOCK_AS_IMPLICIT_KEY: 'a key that runs over more than one line (a missing colon or quote?)',
  MULTILINE_IMPLICIT_KEY: 'a key that runs over more than one line (a missing colon or quote?)',
  BAD_DQ_ESCAPE: 'a backslash in double quotes that is not an escape (use single quotes)',
  MULTIPLE_DOCS: 'more than one document (a line of ---)',
  BAD_SCALAR_START: 'a value starting with a character YAML reserves (@ or `): quote it',
};

/** The YAML document's value, and the line a key path starts on. */
function readYaml(text: string, source: string) {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    // linePos is only filled in with prettyErrors (which quotes the source), so count lines here.
    const line = first ? lineCounter.linePos(first.pos[0]).line : undefined;
    const repeated = first?.code === 'DUPLICATE_KEY' ? keyPathAt(doc, first.pos[0]) : undefined;
    if (repeated !== undefined) {
      // Worded as the functions' JSON reader words it (json.ts), and placed as every other issue
      // is: a rule named by its id too, the file and line last.
      const [top, index] = repeated;
      const rule = top === 'rules' && typeof index === 'number' ? index : undefined;
      const rules =
        rule === undefined
          ? []
          : Array.from({ length: rule + 1 }, (_, i) =>
              i === rule ? { id: doc.getIn(['rules', i, 'id']) } : {},
            );
      throw new ConfigError([
        {
          path: labelledPath({ rules }, formatPath(repeated)),
          message: `the key ${repeated.at(-1)} is given more than once (only one value can count) (${source}${line ? ` line ${line}` : ''})`,
        },
      ]);
    }
    const code = first?.code ?? '';
    const what =
      code === 'RESOURCE_EXHAUSTION'
        ? 'nested too deeply to read'
        : `not valid YAML or JSON${YAML_PROBLEMS[code] ? `: ${YAML_PROBLEMS[code]}` : ''}`;
    throw new ConfigError([
      { path: '', message: `${source}${line ? ` line ${line}` : ''}: ${what} (${code})` },
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
  return { value, lineOf };
}

/** Loads a config file (the shipped default when no path is given). */
export function loadConfig(path: string = DEFAULT_CONFIG_PATH): CompiledConfig {
  return parseConfig(readConfigFile(path), path);
}

/** A valid config's text as the compact JSON the functions read (comments dropped): what `config
 * push` stores and what the synth ships beside each function. Throws a ConfigError, naming the
 * key path and line, for a config that is not valid, so nothing invalid is ever turned into JSON. */
export function configJson(text: string, source = 'config'): string {
  return asConfigError(source, () => {
    const { value, lineOf } = readYaml(text, source);
    configFromValue(value, source, withLine(source, lineOf));
    return JSON.stringify(value);
  });
}

/** A config file as the compact JSON the functions read (configJson). */
export function configFileJson(path: string = DEFAULT_CONFIG_PATH): string {
  return configJson(readConfigFile(path), path);
}
