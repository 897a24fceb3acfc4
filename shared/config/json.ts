// The admin config as the deployed functions read it: JSON only (the pushed SSM parameter, the last
// good copy in the state table, the default shipped beside each function), so no YAML parser is in
// their bundles. JSON.parse keeps the last of two equal keys without a word, so the text is also
// scanned for them; every other check is the YAML reader's own (validate.ts).

import { jsonErrorAt, repeatedKeys } from '../domain/json-keys.ts';
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
      const at = jsonErrorAt(text, error);
      const where = at ? ` line ${at.line} column ${at.column}` : '';
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

/** Every key repeated within one object of a JSON text, by path (see repeatedKeys). */
export function duplicateKeys(text: string): ConfigIssue[] {
  return repeatedKeys(text, MAX_DEPTH).map(({ path, key }) => ({
    path: formatPath([...path, key]),
    message: `the key ${key} is given more than once (only one value can count)`,
  }));
}
