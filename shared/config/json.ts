// The admin config as the deployed functions read it: JSON only (the pushed SSM parameter, the last
// good copy in the state table, the default shipped beside each function), so no YAML parser is in
// their bundles. JSON.parse keeps the last of two equal keys without a word, so the text is also
// scanned for them; every other check is the YAML reader's own (validate.ts).

import type { CompiledConfig, ConfigIssue } from './compile.ts';
import { ConfigError } from './compile.ts';
import {
  asConfigError,
  configFromValue,
  formatPath,
  labelledPath,
  MAX_DEPTH,
  readConfigFile,
} from './validate.ts';

/** Parses and compiles a config's JSON text; `source` names it in errors. Every failure is a
 * ConfigError naming the key path (or, for text that is not JSON, where it stops being JSON). */
export function parseConfigJson(text: string, source = 'config'): CompiledConfig {
  return asConfigError(source, () => {
    if (text.trim() === '') return configFromValue(undefined, source);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      // Not the engine's message: it quotes the text around the fault.
      const at = /position (\d+)/.exec(error instanceof Error ? error.message : '');
      const where = at ? ` ${lineAndColumn(text, Number(at[1]))}` : '';
      throw new ConfigError([{ path: '', message: `${source}${where}: not valid JSON` }], { cause: error });
    }
    const repeated = duplicateKeys(text);
    if (repeated.length > 0) {
      throw new ConfigError(repeated.map((issue) => ({ ...issue, path: labelledPath(value, issue.path) })));
    }
    return configFromValue(value, source);
  });
}

/** Loads a config's JSON file (the default a function ships with). */
export function loadConfigJson(path: string): CompiledConfig {
  return parseConfigJson(readConfigFile(path), path);
}

function lineAndColumn(text: string, position: number): string {
  const before = text.slice(0, position).split('\n');
  return `line ${before.length} column ${(before.at(-1)?.length ?? 0) + 1}`;
}

interface Container {
  path: Array<string | number>;
  /** An object's keys so far; undefined for an array. */
  keys: Set<string> | undefined;
  /** The key whose value comes next (objects), or the index of the current item (arrays). */
  key: string | undefined;
  index: number;
}

/**
 * Every key repeated within one object of a JSON text, by path. The text must already be valid
 * JSON (JSON.parse has accepted it), so only strings and brackets need telling apart. Iterative;
 * containers deeper than MAX_DEPTH are skipped (the shape check refuses them by name).
 */
export function duplicateKeys(text: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const open: Container[] = [];
  let tooDeep = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const end = stringEnd(text, i);
      const inside = open.at(-1);
      if (tooDeep === 0 && inside?.keys && inside.key === undefined) {
        const key = JSON.parse(text.slice(i, end)) as string;
        if (inside.keys.has(key)) {
          issues.push({
            path: formatPath([...inside.path, key]),
            message: `the key ${key} is given more than once (only one value can count)`,
          });
        }
        inside.keys.add(key);
        inside.key = key;
      }
      i = end - 1;
    } else if (c === '{' || c === '[') {
      if (tooDeep > 0 || open.length > MAX_DEPTH) {
        tooDeep += 1;
        continue;
      }
      const parent = open.at(-1);
      const path = parent ? [...parent.path, parent.keys ? (parent.key ?? '') : parent.index] : [];
      open.push({ path, keys: c === '{' ? new Set() : undefined, key: undefined, index: 0 });
    } else if (c === '}' || c === ']') {
      if (tooDeep > 0) tooDeep -= 1;
      else open.pop();
    } else if (c === ',' && tooDeep === 0) {
      const inside = open.at(-1);
      if (inside?.keys) inside.key = undefined;
      else if (inside) inside.index += 1;
    }
  }
  return issues;
}

/** The index just past the string starting at `start` (its opening quote). */
function stringEnd(text: string, start: number): number {
  for (let j = start + 1; j < text.length; j++) {
    if (text[j] === '\\') j += 1;
    else if (text[j] === '"') return j + 1;
  }
  return text.length;
}
