// The digest function's metric names: one home for the handler that publishes them and the alarms
// that read them.

export const DIGEST_METRICS = {
  /** One per run that did everything it had to (checked, and sent what was due). */
  heartbeat: 'DigestHeartbeat',
  sent: 'DigestsSent',
  /** Digests still not sent three hours after they fell due. */
  overdue: 'DigestsOverdue',
  failures: 'DigestFailures',
  /** Per run that read the alert ledger: its records that could not be read (their alerts are not
   * counted in the digests). */
  unreadableAlertRecords: 'DigestUnreadableAlertRecords',
  /** Per run that could check them: the subscriptions the stack made that deliver nothing. */
  subscriptionsNotReceiving: 'SubscriptionsNotReceiving',
} as const;
