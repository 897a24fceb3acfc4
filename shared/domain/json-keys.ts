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
  const open: Container[] = [];
  let tooDeep = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const end = stringEnd(text, i);
      const inside = open.at(-1);
      if (tooDeep === 0 && inside?.keys && inside.key === undefined) {
        const key = JSON.parse(text.slice(i, end)) as string;
        if (inside.keys.has(key)) found.push({ path: inside.path, key });
        inside.keys.add(key);
        inside.key = key;
      }
      i = end - 1;
    } else if (c === '{' || c === '[') {
      if (tooDeep > 0 || open.length > maxDepth) {
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
  return found;
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
}

/** The index just past the string starting at `start` (its opening quote). */
function stringEnd(text: string, start: number): number {
  for (let j = start + 1; j < text.length; j++) {
    if (text[j] === '\\') j += 1;
    else if (text[j] === '"') return j + 1;
  }
  return text.length;
}
