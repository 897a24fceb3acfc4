// The daily picture: every quarter of an hour, send each audience's digest if it has fallen due
// (the config's London time) and has not gone out today. The clock is the only "now".

// First, so that a stack traced while anything else loads is mapped too.
import '#shared/lambda/stack-traces.ts';
import { createDigestHandler, summariseDigest } from '#shared/digest/handler.ts';
import { withObservability } from '#shared/lambda/observability.ts';
import { awsDigestDeps } from '#shared/wiring/digest.ts';

const digest = createDigestHandler(awsDigestDeps());

export const handler = withObservability(async (event: unknown, context) => {
  const result = await digest(event, context);
  return summariseDigest(result);
});
