// The one-sided CUSUM for a drop, for counts (Poisson or negative binomial) and for a proportion
// (Bernoulli, one step per case). Each observation adds the log-likelihood ratio of "fallen to
// `fall` × normal" against "normal": positive when it looks like the fall, negative when it looks
// normal. The score never goes below zero, so old good days cannot hide a new fall, and a signal
// is raised when it reaches the decision limit H.

/** The score added by a day's count `x` when the normal mean is `mean` (over-dispersion `size`,
 * undefined for Poisson) and the fall to detect takes it to `fall` × mean. */
export function countStep(x: number, mean: number, size: number | undefined, fall: number): number {
  const m0 = mean;
  const m1 = fall * mean;
  if (size === undefined || !Number.isFinite(size)) return x * Math.log(fall) + (m0 - m1);
  const ratio = Math.log((m0 + size) / (m1 + size));
  return x * (Math.log(fall) + ratio) + size * ratio;
}

/** The score added by `successes` of `trials` cases when the normal share is `p0` and the fall
 * takes it to `fall` × p0 (a Bernoulli CUSUM applied a day at a time). */
export function proportionStep(successes: number, trials: number, p0: number, fall: number): number {
  const p1 = fall * p0;
  return successes * Math.log(p1 / p0) + (trials - successes) * Math.log((1 - p1) / (1 - p0));
}

export interface CusumState {
  score: number;
  raised: boolean;
  /** The last step at which the score was zero: the CUSUM's own estimate of when a fall began. */
  lastZero: number;
}

export const initialCusum = (step = -1): CusumState => ({ score: 0, raised: false, lastZero: step });

export type CusumEvent = 'raised' | 'cleared' | undefined;

/**
 * One step. While raised, the score is held at H at most, so a long fall does not build up
 * evidence that would take months of normal days to cancel; the signal clears when the score is
 * back at zero (the normal days since have outweighed a whole alarm's worth of evidence).
 */
export function cusumStep(
  state: CusumState,
  increment: number,
  limit: number,
  step: number,
): { state: CusumState; event: CusumEvent } {
  let score = Math.max(0, state.score + increment);
  if (!state.raised) {
    if (score >= limit)
      return { state: { score: limit, raised: true, lastZero: state.lastZero }, event: 'raised' };
    return {
      state: { score, raised: false, lastZero: score === 0 ? step : state.lastZero },
      event: undefined,
    };
  }
  score = Math.min(score, limit);
  if (score === 0) return { state: { score: 0, raised: false, lastZero: step }, event: 'cleared' };
  return { state: { score, raised: true, lastZero: state.lastZero }, event: undefined };
}
