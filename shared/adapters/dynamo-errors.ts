// What a DynamoDB error means, decided in one place: a failed condition is an answer ("someone else
// wrote first", "already newer"), every other error is a failure of the call.

/** A conditional write's condition did not hold (by name: the SDK's class differs between the
 * client and the document client's re-exports, and local servers return the name only). */
export const isConditionFailure = (error: unknown): boolean =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';
