// The silence signals: each morning, referral rates and shares against each district's normal;
// every few minutes, flow that has stopped. Alerts go through the alert topic like the scan's.

// First, so that a stack traced while anything else loads is mapped too.
import '#shared/lambda/stack-traces.ts';
import { withObservability } from '#shared/lambda/observability.ts';
import { createSignalsHandler } from '#shared/signals/handler.ts';
import { awsSignalsDeps } from '#shared/wiring/signals.ts';

const signals = createSignalsHandler(awsSignalsDeps());

export const handler = withObservability(async (event: unknown, context) => {
  const result = await signals(event, context);
  return {
    mode: result.mode,
    at: result.at,
    raised: result.raised,
    learning: result.learning.length,
    sent: result.sent.map((s) => ({
      event: s.event,
      signal: s.signal,
      district: s.district,
      messageId: s.messageId,
    })),
  };
});
