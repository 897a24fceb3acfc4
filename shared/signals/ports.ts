// The signals' ports: the flow they judge (read side of the flow table) and where a signal's
// state is kept between runs. The DynamoDB adapters live in shared/adapters; tests and the local
// run plug in the in-memory ones.

import type { DayFlow } from '../domain/flow.ts';

export interface FlowDays {
  /** One entry per day asked for, oldest first (days without transitions are empty). */
  days: DayFlow[];
  /** Stored items that could not be read as transitions (left out of the counts, never fatal). */
  invalid: number;
}

/** A marker kept per district (its first day of flow, its latest transition), as read. */
export interface FlowMarkers<T> {
  values: Map<string, T>;
  /** Districts whose stored marker cannot be read (left out of `values`, never fatal): the run works
   * the value out from the district's flow instead, and counts and reports them. */
  unreadable: string[];
}

export interface FlowReader {
  /** The first day (London, days since 1970-01-01) of each district's flow history. */
  since(): Promise<FlowMarkers<number>>;
  /** The latest transition (ISO instant) of each district. */
  lastTransitions(): Promise<FlowMarkers<string>>;
  /** A district's flow for each day from `fromDay` to `toDay`. */
  days(
    district: string,
    fromDay: number,
    toDay: number,
    nowMs: number,
    options?: DaysOptions,
  ): Promise<FlowDays>;
}

export interface DaysOptions {
  /** `false` for a display: read the same, but keep no day's counts (no write access needed). */
  seal?: boolean;
  /** Leave out transitions after this instant (ms) in the days read from their transitions (the
   * recent ones): a view as of a past instant. */
  until?: number;
}

/** What the run remembers of one series between runs: whether it was raised and announced, and
 * when it was last sent, so it repeats on its cadence and says once when it clears. */
export interface SignalState {
  raised: boolean;
  /** ISO instants. */
  raisedAt?: string;
  sentAt?: string;
  clearedAt?: string;
  /** The stored record's version as read (absent: never written). Every write is conditional on
   * it, so two runs can never both send for a series (as the scan's alert ledger does). */
  version?: number;
  /** A run sending for the series now: another run leaves it to that one until the lease ends. */
  claim?: SignalClaim;
}

export interface SignalClaim {
  runId: string;
  /** ms */
  leaseUntil: number;
}

export interface SignalStateStore {
  load(names: readonly string[]): Promise<Map<string, SignalState>>;
  /** Claims a series for this run before it sends: only while its record is still as read (at its
   * `version`; absent when undefined). The claimed version, or undefined if another run got there
   * first. */
  claim(name: string, read: SignalState, claim: SignalClaim): Promise<number | undefined>;
  /** Stores a claimed series' new state and clears the claim, conditional on the claimed version.
   * False if another run has written it since (its lease ran out). */
  release(name: string, state: SignalState, claimedVersion: number): Promise<boolean>;
  /** The London day (YYYY-MM-DD) whose daily judgement (rates and shares) last completed: every
   * series judged, and every message due sent and its state saved. Undefined when none is recorded,
   * or the record is unreadable: the day's judgement is then made again (its claims and states
   * make sure nothing is sent twice). */
  dailyCompleted(): Promise<string | undefined>;
  /** Records that the daily judgement completed on London day `day` (YYYY-MM-DD). */
  completeDaily(day: string): Promise<void>;
}
