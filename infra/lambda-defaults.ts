// One construct for every queuewatch function: ARM64 on Node.js 22, a CommonJS bundle with its source
// map, an encrypted log group with retention, X-Ray tracing, Powertools settings, and bind methods
// that set an environment variable and its least-privilege grant together, so neither exists without
// the other.

import { join, relative } from 'node:path';
import { type Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { TABLE_ENV, type TableDefinition } from '#shared/adapters/tables.ts';
import { lambdaLogGroupName } from '#shared/delivery/names.ts';
import { METRICS_NAMESPACE } from '#shared/lambda/observability.ts';
import { PROJECT_ROOT } from './deployment.ts';
import { serviceOf } from './force.ts';
import { heapLimitMb } from './limits.ts';

/**
 * - `read`: GetItem, BatchGetItem, Query on the table and its indexes. Scan only when asked for
 *   (`{ scan: true }`), for a table small by design: reading a table's whole history is what the
 *   sparse index exists to avoid.
 * - `write`: conditional PutItem and UpdateItem, with GetItem to compare against the stored item.
 *   No delete and no BatchWriteItem (which can delete).
 * - `readWrite`: both, plus DeleteItem and BatchWriteItem.
 * - `append`: PutItem and BatchWriteItem on the table alone: adding to a log (the disclosure log is
 *   written in batches; IAM cannot tell a batch's puts from its deletes).
 * - `{ queryIndex }`: Query on that index (or those indexes) and nothing else.
 * - `{ actions }`: exactly these DynamoDB actions on the table and its indexes, for a function whose
 *   calls fit none of the above (the deploy test checks every call a function makes is granted).
 */
export type TableAccess =
  | 'read'
  | 'write'
  | 'readWrite'
  | 'append'
  | { queryIndex: string | readonly string[] }
  | { actions: readonly DynamoAction[] };

export type DynamoAction =
  | 'GetItem'
  | 'BatchGetItem'
  | 'Query'
  | 'PutItem'
  | 'UpdateItem'
  | 'DeleteItem'
  | 'BatchWriteItem';

const READ = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'];
const WRITE = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'];
const READ_WRITE = [...new Set([...READ, ...WRITE, 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'])];
const APPEND = ['dynamodb:PutItem', 'dynamodb:BatchWriteItem'];
const READ_ONLY_ACTIONS = new Set<DynamoAction>(['GetItem', 'BatchGetItem', 'Query']);

const KMS_DECRYPT = ['kms:Decrypt', 'kms:DescribeKey'];
const KMS_ENCRYPT = ['kms:Encrypt', 'kms:GenerateDataKey'];

export interface BundledFile {
  /** Absolute path (copied by the local bundling: the project's files, or one the synth wrote). */
  from: string;
  /** Name inside the asset, next to index.js (so /var/task/<to> at run time). */
  to: string;
}

export interface QueuewatchFunctionProps {
  functionName: string;
  description: string;
  /** The handler's source file; it exports `handler`. */
  entry: string;
  /** The customer-managed key: encrypts the log group; granted as bound tables and topics need. */
  key: IKey;
  production: boolean;
  timeout: Duration;
  memorySize: number;
  reservedConcurrentExecutions?: number;
  /** Async invocations only (the schedule): retries and how long an event may wait. */
  retryAttempts?: number;
  maxEventAge?: Duration;
  environment?: Record<string, string>;
  bundledFiles?: BundledFile[];
  logRetention?: RetentionDays;
}

export class QueuewatchFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;
  private readonly key: IKey;
  private kmsStatement?: PolicyStatement;
  private readonly kmsActions = new Set<string>();
  /** Topics' own keys already granted (see bindTopic). */
  private readonly topicKeys = new Set<IKey>();
  /** What each account-wide grant is and why (see grantAccountWide). */
  private readonly accountWide: string[] = [];

  constructor(scope: Construct, id: string, props: QueuewatchFunctionProps) {
    super(scope, id);
    this.key = props.key;

    // Our own role, so the function gets no AWS managed policy (their log grants cover every group).
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.functionName}: only what its bind calls grant`,
    });
    this.logGroup = new LogGroup(this, 'Logs', {
      logGroupName: lambdaLogGroupName(props.functionName),
      retention: props.logRetention ?? RetentionDays.THREE_MONTHS,
      encryptionKey: props.key,
      removalPolicy: props.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.logGroup.grantWrite(this.role);

    // Every bundle gets a package.json that says it is CommonJS, so that Node.js loads index.js as
    // such wherever the asset sits (Lambda would anyway; a synth inside this project, whose own
    // package.json says "module", would not).
    const files = [
      { from: join(PROJECT_ROOT, 'infra', 'function-package.json'), to: 'package.json' },
      ...(props.bundledFiles ?? []),
    ];
    this.function = new NodejsFunction(this, 'Function', {
      functionName: props.functionName,
      description: props.description,
      entry: props.entry,
      handler: 'handler',
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      ...(props.reservedConcurrentExecutions !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions }
        : {}),
      ...(props.retryAttempts !== undefined ? { retryAttempts: props.retryAttempts } : {}),
      ...(props.maxEventAge !== undefined ? { maxEventAge: props.maxEventAge } : {}),
      role: this.role,
      logGroup: this.logGroup,
      tracing: Tracing.ACTIVE,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}/package-lock.json`,
      environment: {
        // No --enable-source-maps: Node.js would read the map as the bundle loads, at every cold start.
        // The bundle maps its stack traces when one is first formatted (shared/lambda/stack-traces.ts).
        NODE_OPTIONS: `--max-old-space-size=${heapLimitMb(props.memorySize)}`,
        // The force's own service name, so its metrics are its own (see force.ts).
        POWERTOOLS_SERVICE_NAME: serviceOf(this),
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        ...props.environment,
      },
      bundling: {
        target: 'node20',
        // CommonJS, so that Lambda loads the bundle, and the bundle the runtime's AWS SDK, with
        // require(). The SDK's packages are CommonJS: imported from an ES module, each of their
        // files goes through Node.js's ES module loader (format detection, an exports lexer): with
        // require(), a bundle loads in about two thirds of the time (README "Performance", row 6).
        format: OutputFormat.CJS,
        mainFields: ['module', 'main'],
        // Whitespace and syntax minified, names kept: a stack trace names our functions as written
        // (and, through the map, their files and lines). Keeping the names costs the bundles about
        // 90 KB, and their load nothing measurable.
        minify: false,
        esbuildArgs: { '--minify-whitespace': true, '--minify-syntax': true },
        sourceMap: true,
        sourcesContent: false,
        // The Lambda runtime provides the AWS SDK v3.
        externalModules: ['@aws-sdk/*'],
        forceDockerBundling: false,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir: string, outputDir: string) =>
            files.map((f) => `cp "${inputDir}/${relative(PROJECT_ROOT, f.from)}" "${outputDir}/${f.to}"`),
        },
      },
    });

    // Namespaced ids, so CDK records each acknowledged finding and its reason in validation-report.json.
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions::AwsSolutions-L1',
      reason:
        'Pinned to Node.js 22, the runtime the bundle and its dependencies are tested on; moving to a newer ' +
        'runtime is a deliberate, tested change rather than something a synth should do.',
    });
    this.acknowledgeWildcards();
  }

  /** Grants actions that act on no resource (account-wide lists), for the reason given. */
  grantAccountWide(actions: readonly string[], why: string): this {
    this.role.addToPrincipalPolicy(new PolicyStatement({ actions: [...actions], resources: ['*'] }));
    this.accountWide.push(`${actions.join(', ')}: ${why}`);
    this.acknowledgeWildcards();
    return this;
  }

  private acknowledgeWildcards(): void {
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'Resource * only where no resource can be named: the X-Ray statement that active tracing adds ' +
        '(xray:PutTraceSegments, PutTelemetryRecords; X-Ray has no resource-level permissions)' +
        this.accountWide.map((a) => `; ${a}`).join('') +
        '. Every other statement names its resource (the infra tests assert this).',
    });
  }

  /** Sets the table's environment variable (from TABLE_ENV) and grants exactly `access`.
   * `leadingKeys` narrows the grant to items whose partition key matches one of these patterns
   * (`acks/*`): for a function that may touch only its own kind of item in a shared table. */
  bindTable(
    table: ITable,
    definition: TableDefinition,
    access: TableAccess,
    options: { scan?: boolean; leadingKeys?: readonly string[] } = {},
  ): this {
    if (options.scan && (access === 'write' || access === 'append' || typeof access === 'object')) {
      throw new Error(`table '${definition.id}': scan needs read or readWrite access`);
    }
    if (options.leadingKeys && (options.scan || typeof access === 'object')) {
      throw new Error(`table '${definition.id}': leadingKeys cannot limit a Scan or an index Query`);
    }
    const envName = TABLE_ENV[definition.id as keyof typeof TABLE_ENV];
    if (!envName) throw new Error(`no environment variable for table '${definition.id}'`);
    this.function.addEnvironment(envName, table.tableName);

    const indexArn = (name: string) => `${table.tableArn}/index/${name}`;
    if (typeof access === 'object' && 'actions' in access) {
      this.role.addToPrincipalPolicy(
        new PolicyStatement({
          actions: access.actions.map((a) => `dynamodb:${a}`),
          resources: [table.tableArn, ...definition.indexes.map((i) => indexArn(i.indexName))],
        }),
      );
      const writes = access.actions.some((a) => !READ_ONLY_ACTIONS.has(a));
      this.useKey(writes ? [...KMS_DECRYPT, ...KMS_ENCRYPT] : KMS_DECRYPT);
      return this;
    }
    if (typeof access === 'object') {
      const names = typeof access.queryIndex === 'string' ? [access.queryIndex] : access.queryIndex;
      for (const name of names) {
        if (!definition.indexes.some((i) => i.indexName === name)) {
          throw new Error(`table '${definition.id}' has no index '${name}'`);
        }
      }
      this.role.addToPrincipalPolicy(
        new PolicyStatement({ actions: ['dynamodb:Query'], resources: names.map(indexArn) }),
      );
      this.useKey(KMS_DECRYPT);
      return this;
    }
    const actions = [
      ...(access === 'read' ? READ : access === 'write' ? WRITE : access === 'append' ? APPEND : READ_WRITE),
      ...(options.scan ? ['dynamodb:Scan'] : []),
    ];
    const resources =
      access === 'write' || access === 'append'
        ? [table.tableArn]
        : [table.tableArn, ...definition.indexes.map((i) => indexArn(i.indexName))];
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        actions,
        resources,
        ...(options.leadingKeys
          ? {
              conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...options.leadingKeys] } },
            }
          : {}),
      }),
    );
    this.useKey(access === 'read' ? KMS_DECRYPT : [...KMS_DECRYPT, ...KMS_ENCRYPT]);
    return this;
  }

  /** Sets `envName` to the topic's ARN and grants sns:Publish on it (and its key: the function's
   * own, or the topic's when it has one of its own, as the ops topic has). */
  bindTopic(topic: ITopic, envName: string): this {
    this.function.addEnvironment(envName, topic.topicArn);
    this.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['sns:Publish'], resources: [topic.topicArn] }),
    );
    const key = topic.masterKey;
    if (key === undefined) return this;
    if (key === this.key) this.useKey(['kms:Decrypt', 'kms:GenerateDataKey']);
    else if (!this.topicKeys.has(key)) {
      this.topicKeys.add(key);
      this.role.addToPrincipalPolicy(
        new PolicyStatement({ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [key.keyArn] }),
      );
    }
    return this;
  }

  /** Sets `envName` to an SSM parameter's name and grants ssm:GetParameter on that one parameter.
   * The parameter need not exist yet (`queuewatch config push` creates it). */
  bindParameter(parameterName: string, envName: string): this {
    if (!parameterName.startsWith('/'))
      throw new Error(`parameter name must start with '/': ${parameterName}`);
    this.function.addEnvironment(envName, parameterName);
    const arn = Stack.of(this).formatArn({
      service: 'ssm',
      resource: 'parameter',
      resourceName: parameterName.slice(1),
    });
    this.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['ssm:GetParameter'], resources: [arn] }));
    return this;
  }

  /** One statement for the CMK, holding the union of what the bindings need. */
  private useKey(actions: readonly string[]): void {
    const added = actions.filter((a) => !this.kmsActions.has(a));
    if (added.length === 0) return;
    for (const a of added) this.kmsActions.add(a);
    if (!this.kmsStatement) {
      this.kmsStatement = new PolicyStatement({ actions: added, resources: [this.key.keyArn] });
      this.role.addToPrincipalPolicy(this.kmsStatement);
    } else {
      this.kmsStatement.addActions(...added);
    }
  }
}
