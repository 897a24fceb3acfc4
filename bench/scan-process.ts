// One scan run in a process of its own, for the memory benchmark: prints its peak RSS as JSON.
// Usage: node --import tsx bench/scan-process.ts ENDPOINT MIRROR_TABLE LEDGER_TABLE NOW_MS [whole]
// (`whole`: read the ledger in one pass, as the handler does once the last run left it small)

import { readFileSync } from 'node:fs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoLedger } from '#shared/adapters/ledger.ts';
import { CallbackPublisher, MemoryAuditLog } from '#shared/adapters/memory-sinks.ts';
import { DynamoOpenCaseSource } from '#shared/adapters/mirror-reader.ts';
import { loadConfig } from '#shared/config/load.ts';
import { localDynamoClient } from '#shared/local/embedded-dynamo.ts';
import { runScan } from '#shared/scan/run-scan.ts';

const [endpoint, mirror, ledger, now, mode] = process.argv.slice(2);
if (!endpoint || !mirror || !ledger || !now)
  throw new Error('usage: scan-process.ts ENDPOINT MIRROR LEDGER NOW_MS');
const doc = DynamoDBDocumentClient.from(localDynamoClient(endpoint), {
  marshallOptions: { removeUndefinedValues: true },
});
const config = loadConfig();
const baselineRssMb = Math.round(process.memoryUsage().rss / 2 ** 20);
const started = performance.now();
const result = await runScan({
  config,
  nowMs: Number(now),
  runId: 'memory',
  wholeLedger: mode === 'whole',
  source: new DynamoOpenCaseSource(doc, mirror),
  ledger: new DynamoLedger(doc, ledger),
  publisher: new CallbackPublisher(),
  audit: new MemoryAuditLog(),
});
// VmHWM is this process's own peak RSS; getrusage's maxRSS would include the parent's pages at
// fork time, and the benchmark's parent holds a large in-memory DynamoDB.
const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
const maxRssMb = Math.round((hwm ? Number(hwm) : process.memoryUsage().rss / 1024) / 1024);
const durationMs = Math.round(performance.now() - started);
process.stdout.write(
  JSON.stringify({
    maxRssMb,
    baselineRssMb,
    open: result.open,
    durationMs,
    ledgerEntries: result.ledgerEntries,
    ledgerEntriesAfter: result.ledgerEntriesAfter,
  }),
);
doc.destroy();
