// The acknowledgement function's metric names: one home for the function that emits them and the
// alarms that watch them.

export const ACK_METRICS = {
  pageViews: 'AckPageViews',
  acknowledgements: 'Acknowledgements',
  refused: 'AckLinksRefused',
  unconfirmed: 'AckPostsUnconfirmed',
  failures: 'AcknowledgementFailures',
  unaudited: 'UnauditedAcknowledgements',
} as const;
