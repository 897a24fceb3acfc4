// Stack traces in the functions' logs name the source file and line, with no cost at cold start.
// Node.js's own `--enable-source-maps` reads each bundle's map, and measures every line of the
// bundle, as the bundle loads: about 10 ms of every cold start (README "Performance", row 6), for
// maps that are only needed when an error's stack is formatted. So the functions run without it, and
// this hook maps a stack's frames on first use, with Node.js's own source-map parser (`SourceMap`
// from `node:module`): a frame in a file with a `<file>.map` beside it (the bundle's `index.js.map`)
// names its original source, line and column; every other frame is left as V8 writes it.
// Imported first by each function's entry, so it is in place before any other module loads. Where
// stacks are mapped already (Node.js's `--enable-source-maps`, tsx in the CLI, vitest's own hook in
// the tests), it stands aside.

import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';

/** A bundle's map, and the directory its own sources share (the project, as the build saw it). */
interface BundleMap {
  map: SourceMap;
  root: string;
}

const maps = new Map<string, BundleMap | null>();

/** The longest directory (ending in '/') that every source outside node_modules starts with. */
export function sharedDirectory(sources: readonly string[]): string {
  const own = sources.filter((source) => !source.includes('node_modules/'));
  let prefix = own[0]?.slice(0, own[0].lastIndexOf('/') + 1) ?? '';
  for (const source of own) {
    while (!source.startsWith(prefix))
      prefix = prefix.slice(0, prefix.lastIndexOf('/', prefix.length - 2) + 1);
  }
  return prefix;
}

/** The source map beside a file (`<file>.map`), read and parsed once; null when there is none or
 * it cannot be read. */
function mapOf(file: string): BundleMap | null {
  let entry = maps.get(file);
  if (entry === undefined) {
    entry = null;
    try {
      if (existsSync(`${file}.map`)) {
        const payload = JSON.parse(readFileSync(`${file}.map`, 'utf8'));
        entry = { map: new SourceMap(payload), root: sharedDirectory(payload.sources ?? []) };
      }
    } catch {
      entry = null;
    }
    maps.set(file, entry);
  }
  return entry;
}

/** A frame as V8 writes it, its position replaced by the original one where a map knows it. */
function frameText(frame: NodeJS.CallSite): string {
  const text = String(frame);
  const file = frame.getFileName();
  const line = frame.getLineNumber();
  const column = frame.getColumnNumber();
  if (!file || !line || !column || !file.endsWith('.js')) return text;
  const bundle = mapOf(file);
  if (!bundle) return text;
  const entry = bundle.map.findEntry(line - 1, column - 1);
  if (!('originalSource' in entry) || !entry.originalSource) return text;
  // Sources are written relative to where the bundle was built: named from the project (or from
  // node_modules) down.
  const original = entry.originalSource;
  const at = original.indexOf('node_modules/');
  const source =
    at >= 0
      ? original.slice(at)
      : original.startsWith(bundle.root)
        ? original.slice(bundle.root.length)
        : original.replace(/^(?:\.\.\/)+/, '');
  return text.replace(
    `${file}:${line}:${column}`,
    `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`,
  );
}

/** Node.js's own `Error.prepareStackTrace` (Node.js 20 and 22 set one, named so): replaced. */
const NODE_DEFAULT = 'ErrorPrepareStackTrace';

/** Installs the hook, unless something maps stacks already. */
function mapStackTracesOnDemand(): void {
  const current: unknown = Error.prepareStackTrace;
  if (process.sourceMapsEnabled) return;
  if (typeof current === 'function' && current.name !== NODE_DEFAULT) return;
  Error.prepareStackTrace = (error, frames) => {
    let header: string;
    try {
      header = Error.prototype.toString.call(error);
    } catch {
      header = 'Error';
    }
    try {
      return header + frames.map((frame) => `\n    at ${frameText(frame)}`).join('');
    } catch {
      return header + frames.map((frame) => `\n    at ${String(frame)}`).join('');
    }
  };
}

mapStackTracesOnDemand();
