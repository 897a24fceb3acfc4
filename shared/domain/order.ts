// One order for strings everywhere: by UTF-16 code unit. It is the same on every machine, where
// `localeCompare` follows the machine's locale (case and punctuation are weighed differently from
// one to the next), and a collator's first use loads ICU's data (about 11 ms of a cold start).
// Case references, ids and ISO timestamps are ASCII, so this is also the order a person expects.

/** Compares two strings by code unit: for `sort`, and for the tie-breaks of other comparisons. */
export const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
