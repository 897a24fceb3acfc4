// The acknowledgement page, behind the stack's HTTP API: GET /{token} shows an alert's cases and a
// button; only the button's POST acknowledges. See shared/ack/respond.ts for why.

// First, so that a stack traced while anything else loads is mapped too.
import '#shared/lambda/stack-traces.ts';
import { createAckHandler } from '#shared/ack/handler.ts';
import { httpResult, requestFromEvent } from '#shared/ack/http-event.ts';
import { methodNotAllowedPage } from '#shared/ack/page.ts';
import { logger, withObservability } from '#shared/lambda/observability.ts';
import { awsAckDeps } from '#shared/wiring/ack.ts';

const respond = createAckHandler(awsAckDeps());

export const handler = withObservability(async (event: unknown) => {
  const request = requestFromEvent(event);
  if (!request) {
    logger.warn('not an HTTP request event: ignored');
    return httpResult(methodNotAllowedPage());
  }
  return httpResult(await respond(request));
});
