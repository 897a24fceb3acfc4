// The scheduled scan: every few minutes, evaluate the open cases and send what is due. The clock
// is the only "now": the schedule's event carries nothing the scan believes.

// First, so that a stack traced while anything else loads is mapped too.
import '#shared/lambda/stack-traces.ts';
import { withObservability } from '#shared/lambda/observability.ts';
import { createScanHandler } from '#shared/scan/handler.ts';
import { summariseRun } from '#shared/scan/summary.ts';
import { awsScanDeps } from '#shared/wiring/scan.ts';

const scan = createScanHandler(awsScanDeps());

export const handler = withObservability(async (event: unknown, context) => {
  const result = await scan(event, context);
  return summariseRun(result);
});
