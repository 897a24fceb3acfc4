// The CloudWatch dashboard, read back from the template as CloudWatch will: which metrics each row
// graphs and how (a gauge's latest value, a count's sum), every alarm's state, the log query that
// names a failing dependency, and a layout where every row opens with a note.

import { beforeAll, describe, expect, it } from 'vitest';
import { DEPLOYMENT, logicalId, type Synthesized, synthesize } from './support.ts';

interface Widget {
  type: 'text' | 'metric' | 'alarm' | 'log';
  x: number;
  y: number;
  width: number;
  height: number;
  properties: {
    title?: string;
    markdown?: string;
    metrics?: Array<Array<string | Record<string, unknown>>>;
    alarms?: string[];
    query?: string;
    period?: number;
    stacked?: boolean;
    annotations?: { horizontal?: Array<{ value: number; label?: string }> };
  };
}

interface Body {
  start?: string;
  widgets: Widget[];
}

/** The dashboard body with each CloudFormation reference written as `<Ref X>` or `<GetAtt X.Attr>`
 * or `<Import name>`, so it parses as the JSON CloudWatch receives. */
function dashboardOf(s: Synthesized): { name: string; body: Body } {
  const dashboards = Object.values(s.appTemplate.findResources('AWS::CloudWatch::Dashboard'));
  expect(dashboards).toHaveLength(1);
  const properties = dashboards[0]?.Properties as {
    DashboardName: string;
    DashboardBody: { 'Fn::Join': [string, unknown[]] };
  };
  const text = properties.DashboardBody['Fn::Join'][1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const p = part as Record<string, unknown>;
      if ('Ref' in p) return `<Ref ${p.Ref}>`;
      if ('Fn::GetAtt' in p) return `<GetAtt ${(p['Fn::GetAtt'] as string[]).join('.')}>`;
      if ('Fn::ImportValue' in p) return `<Import ${p['Fn::ImportValue']}>`;
      throw new Error(`unexpected token in the dashboard body: ${JSON.stringify(part)}`);
    })
    .join('');
  return { name: properties.DashboardName, body: JSON.parse(text) as Body };
}

/** A metric widget's series as `namespace/name statistic@period` (the metric's period, else the
 * widget's, else CloudWatch's default of 300 s), or the expression for a math series. */
function seriesOf(widget: Widget): string[] {
  return (widget.properties.metrics ?? []).map((m) => {
    const options = (typeof m.at(-1) === 'object' ? m.at(-1) : {}) as Record<string, unknown>;
    if (typeof options.expression === 'string') return options.expression;
    const [namespace, name] = m as string[];
    return `${namespace}/${name} ${options.stat}@${options.period ?? widget.properties.period ?? 300}`;
  });
}

describe('the dashboard', () => {
  let s: Synthesized;
  let body: Body;
  const titled = (title: string) => {
    const widget = body.widgets.find((w) => w.properties.title === title);
    if (!widget) throw new Error(`no widget '${title}'`);
    return widget;
  };

  beforeAll(() => {
    s = synthesize(DEPLOYMENT);
    const dashboard = dashboardOf(s);
    expect(dashboard.name).toBe('queuewatch-test');
    body = dashboard.body;
  });

  it('shows the state of every alarm of the stack', () => {
    const names = Object.values(s.appTemplate.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => (a.Properties as { AlarmName: string }).AlarmName,
    );
    // The scan's and ingest's eleven (with the ingest backlog, reports to ops that failed and a pushed
    // config not in force), the daily digest's four (with its subscription check), the
    // acknowledgement page's five, the signals' three.
    expect(names).toHaveLength(23);
    expect(titled('Alarms').properties.alarms?.sort()).toEqual(
      names
        .map(
          (name) =>
            `arn:<Ref AWS::Partition>:cloudwatch:<Ref AWS::Region>:<Ref AWS::AccountId>:alarm:${name}`,
        )
        .sort(),
    );
  });

  it('shows the queue as the last run saw it: the latest value of each gauge, per run', () => {
    expect(seriesOf(titled('Now'))).toEqual([
      'Queuewatch/OpenCases Maximum@300',
      'Queuewatch/CasesAtWarning Maximum@300',
      'Queuewatch/CasesAtBreach Maximum@300',
      'Queuewatch/CasesAtEscalation Maximum@300',
    ]);
    expect(seriesOf(titled('Cases past each level'))).toEqual([
      'Queuewatch/CasesAtWarning Maximum@300',
      'Queuewatch/CasesAtBreach Maximum@300',
      'Queuewatch/CasesAtEscalation Maximum@300',
    ]);
    for (const m of titled('Now').properties.metrics ?? [])
      expect(m.slice(2, 4)).toEqual(['service', 'queuewatch-test']);
  });

  it('finds every category and risk level the scan publishes, including ones pushed after the deploy', () => {
    const byCategory = titled('Open cases by category and risk');
    expect(seriesOf(byCategory)).toEqual([
      `SEARCH('{Queuewatch,category,riskLevel,service} MetricName="OpenCasesByCategory" service="queuewatch-test"', 'Maximum', 300)`,
    ]);
    expect(byCategory.properties.stacked).toBe(true);
    expect(seriesOf(titled('Oldest open case by category (hours in its stage)'))).toEqual([
      `SEARCH('{Queuewatch,category,service} MetricName="OldestAgeSeconds" service="queuewatch-test"', 'Maximum', 300) / 3600`,
    ]);
  });

  it('counts what went out per hour, and what SNS did with it', () => {
    expect(seriesOf(titled('Messages and SMS sent per hour'))).toEqual([
      'Queuewatch/NotificationsSent Sum@3600',
      'Queuewatch/SmsSent Sum@3600',
    ]);
    const sns = titled('SNS deliveries per hour');
    expect(seriesOf(sns)).toEqual([
      'AWS/SNS/NumberOfNotificationsDelivered Sum@3600',
      'AWS/SNS/NumberOfNotificationsFailed Sum@3600',
    ]);
    const alertTopic = logicalId(s.data, s.data.alertTopic);
    for (const m of sns.properties.metrics ?? [])
      expect(String(m[3])).toMatch(new RegExp(`^<Import .*${alertTopic}`));
  });

  it('shows every failure the functions count, their errors and the dead-letter queue', () => {
    const scanFn = logicalId(s.app, s.app.scan.function);
    const ingestFn = logicalId(s.app, s.app.ingest.function);
    expect(seriesOf(titled('Scan failures'))).toEqual([
      'Queuewatch/PublishFailures Sum@300',
      'Queuewatch/InvalidRecords Maximum@300',
      'AWS/Lambda/Errors Sum@300',
    ]);
    expect(titled('Scan failures').properties.metrics?.[2]?.[3]).toBe(`<Ref ${scanFn}>`);
    expect(seriesOf(titled('Ingest failures'))).toEqual([
      'Queuewatch/RejectedMessages Sum@300',
      'Queuewatch/RetriedMessages Sum@300',
      'Queuewatch/DependencyFailures Sum@300',
      'AWS/Lambda/Errors Sum@300',
      'AWS/SQS/ApproximateNumberOfMessagesVisible Maximum@300',
    ]);
    expect(titled('Ingest failures').properties.metrics?.[3]?.[3]).toBe(`<Ref ${ingestFn}>`);
    expect(String(titled('Ingest failures').properties.metrics?.[4]?.[3])).toContain(
      logicalId(s.data, s.data.ingestDeadLetterQueue),
    );
  });

  it("names the failing dependency from both functions' logs", () => {
    const query = titled('Which dependency failed').properties.query ?? '';
    const scanLogs = logicalId(s.app, s.app.scan.logGroup);
    const ingestLogs = logicalId(s.app, s.app.ingest.logGroup);
    expect(query).toMatch(new RegExp(`^SOURCE '<Ref ${scanLogs}>' \\| SOURCE '<Ref ${ingestLogs}>' \\|`));
    expect(query).toContain('filter ispresent(dependency)');
    expect(query).toContain('by dependency, error.name, error.code');
  });

  it('shows the watcher alive (heartbeat, run time against the timeout) and the feed flowing', () => {
    expect(seriesOf(titled('Heartbeat (successful scan runs)'))).toEqual(['Queuewatch/Heartbeat Sum@300']);
    const duration = titled('Scan run duration');
    expect(seriesOf(duration)).toEqual(['Queuewatch/RunDuration Maximum@300']);
    expect(duration.properties.annotations?.horizontal).toEqual([
      expect.objectContaining({ value: 300_000, label: 'timeout' }),
    ]);
    expect(seriesOf(titled('Case changes applied per hour'))).toEqual([
      'Queuewatch/ChangedCases Sum@3600',
      'Queuewatch/IngestedMessages Sum@3600',
    ]);
    expect(seriesOf(titled('Ingest queue'))).toEqual([
      'AWS/SQS/ApproximateNumberOfMessagesVisible Maximum@300',
      'AWS/SQS/ApproximateAgeOfOldestMessage Maximum@300',
    ]);
  });

  it('reads a gauge once per run on a slower schedule, so a run never falls between buckets', () => {
    const slow = dashboardOf(synthesize({ ...DEPLOYMENT, scheduleMinutes: 15 })).body;
    const now = slow.widgets.find((w) => w.properties.title === 'Now');
    expect(now && seriesOf(now)).toContain('Queuewatch/OpenCases Maximum@900');
    const heartbeatNote = slow.widgets.find((w) => w.properties.markdown?.includes('Heartbeat'));
    expect(heartbeatNote?.properties.markdown).toContain('none for 20 minutes fires *scan-heartbeat*');
  });

  it('opens every row with a note explaining it, and fills each row without overlap', () => {
    const rows = new Map<number, Widget[]>();
    for (const w of body.widgets) rows.set(w.y, [...(rows.get(w.y) ?? []), w]);
    const [header, ...rest] = [...rows.entries()].sort(([a], [b]) => a - b);
    expect(header?.[1].map((w) => w.type)).toEqual(['text']);
    expect(rest.map(([, ws]) => ws[0]?.properties.markdown?.split('\n')[0])).toEqual([
      '## Is it watching?',
      '## The queue now',
      '## How old',
      '## What went out',
      '## What failed',
      '## The feed',
    ]);
    for (const [, widgets] of rows) {
      let x = 0;
      for (const w of [...widgets].sort((a, b) => a.x - b.x)) {
        expect(w.x).toBe(x);
        x += w.width;
      }
      expect(x).toBe(24);
    }
    expect(body.start).toBe('-P1D');
  });
});
