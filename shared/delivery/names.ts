// Every name a force's deployment gives its AWS resources, built from the force's stage here and
// nowhere else: the stacks, the CLI and the tests import these. Each begins `queuewatch-<stage>-`
// (the config parameter `/queuewatch/<stage>/`), so two forces' names never meet.

const PROJECT = 'queuewatch';

/** A stage: 1 to 16 lower-case letters, digits or dashes, beginning with a letter. */
export const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,15}$/;
export const STAGE_RULE = 'must be 1 to 16 lower-case letters, digits or dashes, beginning with a letter';

/** What every name of a force begins with: `queuewatch-<stage>`. */
export const prefix = (stage: string) => `${PROJECT}-${stage}`;

/** Every name of one force, for a policy or a stack selector that covers a kind of resource. Only
 * one force's, as long as no force's stage is another's plus a dash (deploy-config.ts refuses that). */
export const prefixPattern = (stage: string) => `${prefix(stage)}-*`;

export const stackName = (stage: string, part: 'data' | 'app') => `${prefix(stage)}-${part}`;

/** A table, by its TableDefinition id (`mirror`, `ledger`, ...). */
export const tableName = (stage: string, tableId: string) => `${prefix(stage)}-${tableId}`;

export const topicName = (stage: string, topic: 'alerts' | 'ops') => `${prefix(stage)}-${topic}`;

export const queueName = (stage: string, queue: 'ingest' | 'ingest-dlq') => `${prefix(stage)}-${queue}`;

export const keyAlias = (stage: string) => `alias/${prefix(stage)}`;
/** The ops topic's own key: the alarms must not fail with the data key they may be reporting on. */
export const opsKeyAlias = (stage: string) => `alias/${prefix(stage)}-ops`;

/** The SSM parameter the force's functions read the pushed admin config from. */
export const configParameterName = (stage: string) => `/${PROJECT}/${stage}/config`;

/** A function, by its id (`scan`, `ingest`, ...). */
export const functionName = (stage: string, fn: string) => `${prefix(stage)}-${fn}`;

/** Where Lambda writes a function's logs (a function name, or a pattern of them). */
export const lambdaLogGroupName = (fnName: string) => `/aws/lambda/${fnName}`;

/** Any other log group of the force (an API's access log): beside its functions' groups, which
 * the force's key lets CloudWatch Logs encrypt. */
export const logGroupName = (stage: string, log: string) => lambdaLogGroupName(`${prefix(stage)}-${log}`);

/** An API Gateway API, by what it serves (`ack`, ...). */
export const apiName = (stage: string, api: string) => `${prefix(stage)}-${api}`;

export const alarmName = (stage: string, alarm: string) => `${prefix(stage)}-${alarm}`;

/** An EventBridge rule, by what it runs (`scan`, ...). */
export const ruleName = (stage: string, rule: string) => `${prefix(stage)}-${rule}`;

/** An EventBridge Scheduler schedule, by what it runs (`signals-daily`, ...). */
export const scheduleName = (stage: string, schedule: string) => `${prefix(stage)}-${schedule}`;

export const dashboardName = (stage: string) => prefix(stage);

/** The service name on the force's logs, traces and metrics (the `service` dimension of every
 * custom metric), so two forces in one account and region never count into each other's. */
export const serviceName = (stage: string) => prefix(stage);
