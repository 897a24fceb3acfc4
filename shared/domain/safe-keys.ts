// Keys that an input (a case record, a feed message, a CSV header, the admin config's maps) may not
// use: assigning them into a plain object changes its prototype or shadows what code relies on.

export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** The first of an object's own keys that is forbidden, if any. JSON.parse makes `__proto__` an own
 * key (it never sets the prototype), so looking at own keys finds it. */
export function forbiddenKeyOf(value: object): string | undefined {
  for (const key of Object.keys(value)) if (FORBIDDEN_KEYS.has(key)) return key;
  return undefined;
}
