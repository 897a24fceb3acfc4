// Records written by runs that may overlap (the alert ledger's, the signals' states) carry a version,
// and each write is conditional on the version it read, so two runs never both write over one read.

/** The version a run holds for a record whose version cannot be read (written before versions, or
 * damaged): it writes the record anew only while it is still so, so two runs still cannot both. */
export const DAMAGED_VERSION = -1;

/** The version a stored item is held at: its own when that is a number, else DAMAGED_VERSION. */
export const versionOf = (item: Record<string, unknown>): number =>
  typeof item.version === 'number' && Number.isFinite(item.version) ? item.version : DAMAGED_VERSION;

/** The version written over one read at `expected` (undefined: none stored). */
export const nextVersion = (expected: number | undefined): number =>
  expected === undefined || expected === DAMAGED_VERSION ? 1 : Math.floor(expected) + 1;

/** The condition a write over a record read at `expected` (undefined: none stored) carries; `key`
 * is the table's partition key attribute. */
export function versionCondition(
  expected: number | undefined,
  key: string,
): {
  ConditionExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
} {
  if (expected === undefined) {
    return { ConditionExpression: 'attribute_not_exists(#key)', ExpressionAttributeNames: { '#key': key } };
  }
  if (expected === DAMAGED_VERSION) {
    return {
      ConditionExpression:
        'attribute_exists(#key) AND (attribute_not_exists(#version) OR NOT attribute_type(#version, :number))',
      ExpressionAttributeNames: { '#key': key, '#version': 'version' },
      ExpressionAttributeValues: { ':number': 'N' },
    };
  }
  return {
    ConditionExpression: '#version = :expected',
    ExpressionAttributeNames: { '#version': 'version' },
    ExpressionAttributeValues: { ':expected': expected },
  };
}
