// `queuewatch flow import FILE`: loads an export of past stage transitions into the flow table, so
// the silence signals start with a baseline (locally with --endpoint, or on AWS). `queuewatch flow
// show`: a district's daily flow, as the signals read it. Declared in program.ts.

import { existsSync } from 'node:fs';
import { DynamoFlowStore, FLOW_RETENTION_DAYS } from '../adapters/flow-store.ts';
import { FLOW_TABLE, TABLES } from '../adapters/tables.ts';
import { loadConfig } from '../config/load.ts';
import { isoDateOfEpochDay } from '../domain/calendar.ts';
import { londonDay, parseFlowKey } from '../domain/flow.ts';
import { importFlowHistory } from '../ingest/flow-history.ts';
import { ensureTables } from '../local/embedded-dynamo.ts';
import { documentClient, dynamoClient } from './aws.ts';
import { callService, type ServiceTarget } from './errors.ts';
import { EXIT, print, UsageError } from './output.ts';
import { type TargetOptions, tableTarget } from './targets.ts';

export interface FlowImportOptions extends TargetOptions {
  rejects?: string;
  createTables?: boolean;
  config?: string;
}

export interface FlowShowOptions extends TargetOptions {
  district: string;
  days: number;
  config?: string;
}

export async function flowImportCommand(
  file: string,
  options: FlowImportOptions,
  nowMs: number,
): Promise<void> {
  const config = loadConfig(options.config);
  const target = tableTarget(options, FLOW_TABLE.id);
  if (options.createTables && !options.endpoint) {
    throw new UsageError('--create-tables is for local endpoints; on AWS the stack creates the tables');
  }
  if (!existsSync(file)) throw new UsageError(`cannot read ${file}: no such file`);
  const service: ServiceTarget = { service: 'DynamoDB', resource: target.tableName, ...target };
  const client = dynamoClient(target);
  try {
    if (options.createTables) {
      if (options.table !== undefined)
        throw new UsageError('--create-tables needs --prefix (it creates every table)');
      const prefix = target.tableName.slice(0, -`-${FLOW_TABLE.id}`.length);
      await callService(service, async () => {
        const { created } = await ensureTables(client, prefix);
        if (created.length === 0) return;
        const all = created.length === TABLES.length;
        process.stderr.write(`created ${all ? `the ${prefix}-* tables` : created.join(', ')}\n`);
      });
    }
    const report = await callService(service, () =>
      importFlowHistory({
        file,
        store: new DynamoFlowStore(documentClient(client), target.tableName),
        vocabulary: config.vocabulary,
        nowMs,
        ...(options.rejects ? { rejectsFile: options.rejects } : {}),
      }),
    );
    print(`${file} -> ${target.tableName}`);
    print(`  read               ${report.read}`);
    print(`  stored             ${report.stored} (a transition already there is stored once)`);
    if (report.repeated > 0) print(`  repeated in file   ${report.repeated}`);
    print(
      `  rejected           ${report.rejected}${report.rejectsFile ? `: line and reason in ${report.rejectsFile}` : ''}`,
    );
    for (const [district, span] of Object.entries(report.districts)) {
      print(`  ${district.padEnd(18)} ${span.transitions} transitions, ${span.from} to ${span.to}`);
    }
    if (report.rejected > 0) process.exitCode = EXIT.rejected;
  } finally {
    client.destroy();
  }
}

export async function flowShowCommand(options: FlowShowOptions, nowMs: number): Promise<void> {
  const config = loadConfig(options.config);
  if (!config.file.districts[options.district]) {
    throw new UsageError(
      `unknown district '${options.district}' (known: ${Object.keys(config.file.districts).join(', ')})`,
    );
  }
  // The flow table keeps no day older than its retention: a longer window shows nothing more.
  if (options.days > FLOW_RETENTION_DAYS) {
    throw new UsageError(
      `--days must be at most ${FLOW_RETENTION_DAYS} (the flow table keeps ${FLOW_RETENTION_DAYS} days)`,
    );
  }
  const target = tableTarget(options, FLOW_TABLE.id);
  const client = dynamoClient(target);
  try {
    const store = new DynamoFlowStore(documentClient(client), target.tableName);
    const today = londonDay(nowMs);
    const { days, invalid } = await callService(
      { service: 'DynamoDB', resource: target.tableName, ...target },
      // A display: it writes nothing (the signals build and keep the days' counts).
      () => store.days(options.district, today - options.days, today, nowMs, { seal: false }),
    );
    print(
      `${options.district} ${config.file.districts[options.district]?.name}: transitions by stage entered`,
    );
    print('  day          total  referred  closed  arrived');
    for (const d of days) {
      let total = 0;
      let referred = 0;
      let closed = 0;
      let arrived = 0;
      for (const [key, n] of Object.entries(d.counts)) {
        const k = parseFlowKey(key);
        if (!k) continue;
        total += n;
        if (k.to === 'referred') referred += n;
        if (k.to === 'closed') closed += n;
        if (k.from === 'new') arrived += n;
      }
      print(
        `  ${isoDateOfEpochDay(d.day)}  ${String(total).padStart(5)}  ${String(referred).padStart(8)}  ${String(closed).padStart(6)}  ${String(arrived).padStart(7)}`,
      );
    }
    print('  (the last day is today, so far)');
    if (invalid > 0) print(`  (${invalid} stored items could not be read as transitions and were left out)`);
  } finally {
    client.destroy();
  }
}
