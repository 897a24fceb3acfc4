// `queuewatch signals show`: what each silence signal watches, how it is judged, and who hears of
// it in each district (like `routes test` for the alert rules). `queuewatch signals status`: each
// district's signals now, from the flow table, learning ones said plainly. Declared in program.ts.

import { DynamoFlowStore } from '../adapters/flow-store.ts';
import { FLOW_TABLE } from '../adapters/tables.ts';
import type { CompiledConfig } from '../config/compile.ts';
import { loadConfig } from '../config/load.ts';
import {
  FEED_STOPPED_ID,
  FLOW_STOPPED_ID,
  type FlowMatch,
  type SignalsFile,
} from '../config/signals-schema.ts';
import { judgeDaily, judgeFlowStopped, type SignalStatus } from '../signals/evaluate.ts';
import { labelOf } from '../signals/messages.ts';
import { readHistory } from '../signals/run-signals.ts';
import { documentClient, dynamoClient } from './aws.ts';
import { callService } from './errors.ts';
import { print, UsageError } from './output.ts';
import { type TargetOptions, tableTarget } from './targets.ts';

export interface SignalView {
  id: string;
  kind: 'rate' | 'proportion' | 'flow-stopped' | 'feed-stopped';
  label: string;
  watches: string;
  level: string;
  /** Each district's audiences and the routes that give them (one entry for the whole feed). */
  audiences: Array<{ district?: string; audiences: readonly string[]; routes: number[] }>;
}

const describeMatch = (match: FlowMatch) => {
  const parts = Object.entries(match)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('|') : String(v)}`);
  return parts.length > 0 ? parts.join(' ') : 'every transition';
};

export function showSignals(
  config: CompiledConfig,
  only?: { signal?: string; district?: string },
): SignalView[] {
  const signals = config.signals;
  const file = config.file.signals as SignalsFile;
  if (only?.signal && !signals.ids.includes(only.signal)) {
    throw new UsageError(`unknown signal '${only.signal}' (known: ${signals.ids.join(', ')})`);
  }
  if (only?.district && !config.file.districts[only.district]) {
    throw new UsageError(
      `unknown district '${only.district}' (known: ${Object.keys(config.file.districts).join(', ')})`,
    );
  }
  const districts = only?.district ? [only.district] : Object.keys(config.file.districts);
  const where = (id: string) =>
    (id === FEED_STOPPED_ID ? [undefined] : districts).map((district) => ({
      ...(district ? { district } : {}),
      audiences: signals.audiencesFor(id, district),
      routes: signals.matchingRoutes(id, district),
    }));
  const views: SignalView[] = [
    ...file.rates.map((r) => ({
      id: r.id,
      kind: 'rate' as const,
      label: r.label,
      watches: `transitions a day where ${describeMatch(r.count)}; tuned to notice a fall to ${Math.round(r.fall * 100)}% of normal`,
      level: r.level,
      audiences: where(r.id),
    })),
    ...file.proportions.map((p) => ({
      id: p.id,
      kind: 'proportion' as const,
      label: p.label,
      watches: `of cases where ${describeMatch(p.cases)}, the share where ${describeMatch(p.referred)}; tuned to notice a fall to ${Math.round(p.fall * 100)}% of normal${p.floor !== undefined ? `; raised below ${Math.round(p.floor * 100)}% from day one` : ''}`,
      level: p.level,
      audiences: where(p.id),
    })),
    ...(signals.flowStopped.districts
      ? [
          {
            id: FLOW_STOPPED_ID,
            kind: 'flow-stopped' as const,
            label: 'case movements',
            watches: "a district's transitions stop for longer than is normal at that hour of the week",
            level: signals.flowStopped.districtLevel,
            audiences: where(FLOW_STOPPED_ID),
          },
        ]
      : []),
    ...(signals.flowStopped.feed
      ? [
          {
            id: FEED_STOPPED_ID,
            kind: 'feed-stopped' as const,
            label: 'case movements (all districts)',
            watches: "the whole feed's transitions stop for longer than is normal at that hour of the week",
            level: signals.flowStopped.feedLevel,
            audiences: where(FEED_STOPPED_ID),
          },
        ]
      : []),
  ];
  return only?.signal ? views.filter((v) => v.id === only.signal) : views;
}

/** Each district's signals now, in one line: learning (until when), normal, or raised with what was
 * seen; the whole feed on a line of its own. */
export function describeStatuses(config: CompiledConfig, statuses: readonly SignalStatus[]): string[] {
  const lines: string[] = [];
  const label = (s: SignalStatus) => labelOf(s, config);
  const line = (s: SignalStatus): string => {
    if (s.state === 'learning')
      return `${label(s)} learning${s.learningUntil ? ` until ${s.learningUntil}` : ' (no flow yet)'}`;
    if (s.state === 'sparse') return `${label(s)} too few to judge`;
    const raised = s.state === 'raised' ? 'RAISED' : 'normal';
    switch (s.kind) {
      case 'rate':
        return `${label(s)} ${raised} (${s.observed} in ${s.days} days, normal ${Math.round(s.expected)}${s.fallSince ? `, low since ${s.fallSince}` : ''})`;
      case 'proportion': {
        const share = s.trials > 0 ? ` (${Math.round((s.successes / s.trials) * 100)}%)` : '';
        const normal =
          s.normal !== undefined
            ? `, ${s.against === 'floor' ? 'floor' : 'normal'} ${Math.round(s.normal * 100)}%`
            : '';
        const learning = s.learningUntil ? `; its own normal learning until ${s.learningUntil}` : '';
        return `${label(s)} ${raised} (${s.successes} of ${s.trials}${share} in ${s.days} days${normal}${learning})`;
      }
      default:
        return `${label(s)} ${raised}${s.last ? ` (latest ${s.last.slice(0, 16).replace('T', ' ')} UTC)` : ''}`;
    }
  };
  for (const district of Object.keys(config.file.districts)) {
    const own = statuses.filter((s) => s.district === district);
    if (own.length === 0) continue;
    const name = config.file.districts[district]?.name ?? '';
    lines.push(`${`${district} ${name}`.padEnd(16)} ${own.map(line).join(' · ')}`);
  }
  const feed = statuses.filter((s) => s.district === undefined);
  if (feed.length > 0) lines.push(`${'whole feed'.padEnd(16)} ${feed.map(line).join(' · ')}`);
  return lines;
}

export interface SignalsShowOptions {
  signal?: string;
  district?: string;
  config?: string;
  json?: boolean;
}

export function signalsShowCommand(options: SignalsShowOptions): void {
  const config = loadConfig(options.config);
  if (!config.signals.configured) {
    print('no signals: the config has no signals section, so nothing watches for silence');
    return;
  }
  const views = showSignals(config, {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.district ? { district: options.district } : {}),
  });
  if (options.json) {
    print(JSON.stringify(views, null, 2));
    return;
  }
  const s = config.signals;
  print(
    `normal: the last ${s.settings.baselineWeeks} of each weekday (bank holidays and alarm periods left out); learning until ${s.settings.minBaselineWeeks} weeks of flow`,
  );
  print(
    `design: one chance alarm per signal and district in ${s.settings.falseAlarmDays} days; raised signals repeat every ${Math.round(s.repeatMs / 3_600_000)}h (flow stopped: every ${Math.round(s.flowRepeatMs / 3_600_000)}h)`,
  );
  for (const v of views) {
    print('');
    print(`${v.id} (${v.kind}, level ${v.level}): "${v.label}"`);
    print(`  watches ${v.watches}`);
    // Districts with the same audiences on one line.
    const groups = new Map<string, { places: string[]; routes: Set<number> }>();
    for (const a of v.audiences) {
      const key = a.audiences.join(', ');
      const group = groups.get(key) ?? { places: [], routes: new Set<number>() };
      group.places.push(a.district ?? 'the whole feed');
      for (const r of a.routes) group.routes.add(r);
      groups.set(key, group);
    }
    for (const [audiences, group] of groups) {
      const via =
        group.routes.size > 0
          ? `signal routes ${[...group.routes].sort((a, b) => a - b).join(', ')}`
          : 'fallback audience: no route matched';
      print(`  ${group.places.join(' ')} -> ${audiences}  (${via})`);
    }
  }
}

export interface SignalsStatusOptions extends TargetOptions {
  at?: number;
  config?: string;
}

export async function signalsStatusCommand(options: SignalsStatusOptions, nowMs: number): Promise<void> {
  const config = loadConfig(options.config);
  if (!config.signals.configured) {
    print('no signals: the config has no signals section, so nothing watches for silence');
    return;
  }
  const target = tableTarget(options, FLOW_TABLE.id);
  const client = dynamoClient(target);
  try {
    const at = options.at ?? nowMs;
    const flow = new DynamoFlowStore(documentClient(client), target.tableName);
    const { history, invalid } = await callService(
      { service: 'DynamoDB', resource: target.tableName, ...target },
      () => readHistory({ config, nowMs: at, mode: 'all', flow }, { display: true }),
    );
    const statuses = [...judgeDaily(config, history), ...judgeFlowStopped(config, history, at)];
    print(
      `signals as of ${new Date(at).toISOString().slice(0, 16).replace('T', ' ')} UTC, from ${target.tableName}:`,
    );
    for (const line of describeStatuses(config, statuses)) print(`  ${line}`);
    if (invalid > 0) print(`  (${invalid} flow items could not be read and were left out)`);
  } finally {
    client.destroy();
  }
}
