// The alert levels, in rising order: the one home for their order. Everything that compares,
// sorts or encodes levels imports from here.

export const LEVELS = ['warning', 'breach', 'escalation'] as const;
export type Level = (typeof LEVELS)[number];

/** A level's rank: 0 for warning, 1 for breach, 2 for escalation. */
export const rankOf = (level: Level): number => LEVELS.indexOf(level);

/** The higher of two levels. */
export const higher = (a: Level, b: Level): Level => (rankOf(a) >= rankOf(b) ? a : b);

/** Levels highest first (escalation, breach, warning): the order people read them in. */
export const LEVELS_HIGHEST_FIRST: readonly Level[] = [...LEVELS].reverse();

export const isLevel = (value: unknown): value is Level => (LEVELS as readonly unknown[]).includes(value);
