// The scheduled scan: every few minutes, evaluate the open cases and send what is due.

import { withObservability } from '#shared/lambda/observability.ts';
import { awsScanDeps, createScanHandler, type ScanEvent } from '#shared/scan/handler.ts';
import { summariseRun } from '#shared/scan/summary.ts';

const scan = createScanHandler(awsScanDeps());

export const handler = withObservability(async (event: ScanEvent | undefined, context) => {
  const result = await scan(event, context);
  return summariseRun(result);
});
