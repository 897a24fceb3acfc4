// JSON.parse keeps the last of two equal keys in one object without a word, so a record that says
// `"riskLevel":"high"` and then `"riskLevel":"standard"` would be read as standard risk. The admin
// config and the case records (files and the feed) are checked for such keys here.

/** Every key repeated within one object of a JSON text, with the path of the object holding it.
 * The text must already be valid JSON (JSON.parse has accepted it), so only strings and brackets
 * need telling apart. Iterative; containers deeper than `maxDepth` are skipped. */
export function repeatedKeys(
  text: string,
  maxDepth = 32,
): Array<{ path: Array<string | number>; key: string }> {
  const found: Array<{ path: Array<string | number>; key: string }> = [];
  walkEntries(text, maxDepth, (path, key, _at, repeated) => {
    if (repeated) found.push({ path, key: key as string });
  });
  return found;
}

/** Where each key and list item of a JSON text starts: a function from a key path written as
 * `subscribers[2].endpoint` to its 1-based line. A path the text does not have (a key left out)
 * gives the line of the nearest entry holding it; undefined only when not even the first key of
 * the path is there. The text must be valid JSON; containers deeper than `maxDepth` are skipped. */
export function jsonLines(text: string, maxDepth = 32): (path: string) => number | undefined {
  const starts = new Map<string, number>();
  walkEntries(text, maxDepth, (path, key, at, repeated) => {
    const written = writePath([...path, key]);
    // A repeated key counts where JSON.parse takes it from: its last place.
    if (repeated || !starts.has(written)) starts.set(written, at);
  });
  const lineOf = lineFinder(text);
  return (path) => {
    for (let p = path; p !== ''; p = p.replace(/(?:\.[^.[]*|\[\d+\])$|^[^.[]*$/, '')) {
      const at = starts.get(p);
      if (at !== undefined) return lineOf(at);
    }
    return undefined;
  };
}

/** A key path as the config and deployment checks write it: `a.b[2].c`. */
function writePath(path: ReadonlyArray<string | number>): string {
  let out = '';
  for (const part of path) out = typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${part}` : part;
  return out;
}

/** Where JSON.parse stopped reading a text, from its error (whose message also quotes the text
 * around the fault, so never show that); undefined when the error does not say. */
export function jsonErrorAt(text: string, error: unknown): { line: number; column: number } | undefined {
  const position = /position (\d+)/.exec(error instanceof Error ? error.message : '')?.[1];
  if (position === undefined) return undefined;
  const offset = Number(position);
  const lineStart = offset > 0 ? text.lastIndexOf('\n', offset - 1) + 1 : 0;
  return { line: lineAt(text, offset), column: offset - lineStart + 1 };
}

function lineAt(text: string, offset: number): number {
  return lineFinder(text)(offset);
}

/** The 1-based line of an offset, by a table of where each line starts (built once, searched for
 * each offset: a file with thousands of problems is placed in one pass). */
function lineFinder(text: string): (offset: number) => number {
  const starts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (offset) => {
    let low = 0;
    let high = starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((starts[mid] ?? 0) <= offset) low = mid;
      else high = mid - 1;
    }
    return low + 1;
  };
}

/** Calls `visit` for each key of an object and each item of a list in a valid JSON text, in text
 * order: the path of the container, the key or index, the offset where it starts, and whether the
 * key was given before in the same object. Iterative; containers deeper than `maxDepth` are
 * skipped. */
function walkEntries(
  text: string,
  maxDepth: number,
  visit: (path: Array<string | number>, key: string | number, at: number, repeated: boolean) => void,
): void {
  const open: Container[] = [];
  let tooDeep = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === ' ' || c === '\n' || c === '\r' || c === '\t' || c === ':') continue;
    const inside = tooDeep === 0 ? open.at(-1) : undefined;
    if (c === '}' || c === ']') {
      if (tooDeep > 0) tooDeep -= 1;
      else open.pop();
      continue;
    }
    if (c === ',') {
      if (inside?.keys) inside.key = undefined;
      else if (inside) {
        inside.index += 1;
        inside.awaiting = true;
      }
      continue;
    }
    // A value's first character: in a list, where an item starts.
    if (inside && !inside.keys && inside.awaiting) {
      inside.awaiting = false;
      visit(inside.path, inside.index, i, false);
    }
    if (c === '"') {
      const end = stringEnd(text, i);
      if (inside?.keys && inside.key === undefined) {
        const key = JSON.parse(text.slice(i, end)) as string;
        visit(inside.path, key, i, inside.keys.has(key));
        inside.keys.add(key);
        inside.key = key;
      }
      i = end - 1;
    } else if (c === '{' || c === '[') {
      if (tooDeep > 0 || open.length > maxDepth) {
        tooDeep += 1;
        continue;
      }
      const path = inside ? [...inside.path, inside.keys ? (inside.key ?? '') : inside.index] : [];
      open.push({
        path,
        keys: c === '{' ? new Set() : undefined,
        key: undefined,
        index: 0,
        awaiting: c === '[',
      });
    }
  }
}

/** The first key repeated in a parsed value's text that `matters` (by the path of the object
 * holding it, and its name), if any; the full scan only runs when the text may hold one. */
export function firstRepeatedKey(
  text: string,
  value: unknown,
  matters: (path: ReadonlyArray<string | number>, key: string) => boolean,
): { path: Array<string | number>; key: string } | undefined {
  if (!mayRepeatKeys(text, value)) return undefined;
  return repeatedKeys(text).find((r) => matters(r.path, r.key));
}

/** Whether a parsed value's text may hold a repeated key: it has more places that can be a key
 * (a quote, then a colon) than the value has keys. False only when it cannot, so the full scan
 * runs for the rare record that needs it, not for every line of a million-line import. */
export function mayRepeatKeys(text: string, value: unknown): boolean {
  let places = 0;
  for (let i = text.indexOf('"'); i !== -1; i = text.indexOf('"', i + 1)) {
    let j = i + 1;
    while (j < text.length && (text[j] === ' ' || text[j] === '\t' || text[j] === '\n' || text[j] === '\r'))
      j++;
    if (text[j] === ':') places += 1;
  }
  return places > keysIn(value);
}

/** Keys in a parsed value, at every depth (iterative: a hostile input may nest thousands deep). */
function keysIn(value: unknown): number {
  let n = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null) continue;
    // One push at a time: a spread of a million-item array would overflow the call's arguments.
    const values = Array.isArray(v) ? v : Object.values(v);
    if (!Array.isArray(v)) n += values.length;
    for (const item of values) if (typeof item === 'object' && item !== null) stack.push(item);
  }
  return n;
}

interface Container {
  path: Array<string | number>;
  /** An object's keys so far; undefined for an array. */
  keys: Set<string> | undefined;
  /** The key whose value comes next (objects), or the index of the current item (arrays). */
  key: string | undefined;
  index: number;
  /** A list whose next item has not started yet (after its `[` or a comma). */
  awaiting: boolean;
}

/** The index just past the string starting at `start` (its opening quote). */
function stringEnd(text: string, start: number): number {
  for (let j = start + 1; j < text.length; j++) {
    if (text[j] === '\\') j += 1;
    else if (text[j] === '"') return j + 1;
  }
  return text.length;
}
