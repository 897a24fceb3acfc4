// The acknowledgement page's public endpoint: an HTTP API with exactly two routes, GET and POST
// /{token}, in front of the ack function. An HTTP API rather than a function URL: it throttles a
// flood before it reaches the function, answers every other path and method itself, writes an
// access log (without the path, which holds the token), and takes a force's own short domain
// directly (an API Gateway custom domain). Plus the alarms that make the page's failures loud.

import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Alarm, ComparisonOperator, type IMetric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ACK_METRICS } from '#shared/ack/metrics.ts';
import { alarmName, apiName, logGroupName } from '#shared/delivery/names.ts';
import { queuewatchMetric } from './alarms.ts';

export const ACK_TIMEOUT = Duration.seconds(10);
export const ACK_MEMORY_MB = 256;
/** Requests a second across the API (steady, and in a burst): people press a few buttons a
 * minute; anything near this is a scanner or a guesser. */
export const ACK_THROTTLE = { rateLimit: 10, burstLimit: 20 };
/** Refused links in five minutes that page ops: a few are normal (old links, scanners re-opening
 * them), this many looks like guessing. */
export const ACK_REFUSAL_BURST = 50;

export interface AckEndpointProps {
  /** The force's stage, which names the API, its access log and its alarms. */
  stage: string;
  production: boolean;
  fn: IFunction;
  /** Encrypts the access log (the key's policy lets CloudWatch Logs use it for the force's log groups). */
  key: IKey;
  opsTopic: ITopic;
}

export class AckEndpoint extends Construct {
  readonly api: HttpApi;
  readonly accessLogs: LogGroup;
  /** The page's address as deployed, without a trailing slash: https://{api id}.execute-api.{region}.amazonaws.com */
  readonly url: string;
  readonly alarms: Record<'errors' | 'apiErrors' | 'failures' | 'unaudited' | 'refusalBurst', Alarm>;
  readonly alarmNames: string[] = [];

  constructor(scope: Construct, id: string, props: AckEndpointProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      logGroupName: logGroupName(props.stage, 'ack-access'),
      retention: RetentionDays.THREE_MONTHS,
      encryptionKey: props.key,
      removalPolicy: props.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.api = new HttpApi(this, 'Api', {
      apiName: apiName(props.stage, 'ack'),
      description: 'Acknowledgement page: GET shows an alert, only the button POST acknowledges',
      createDefaultStage: false,
    });
    this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: ACK_THROTTLE,
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogs),
        // The route key (`GET /{token}`) and never the path: the path is the token. No source IP.
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTimeEpoch',
            method: '$context.httpMethod',
            route: '$context.routeKey',
            status: '$context.status',
            length: '$context.responseLength',
            latencyMs: '$context.integrationLatency',
            integrationError: '$context.integrationErrorMessage',
            userAgent: '$context.identity.userAgent',
          }),
        ),
      },
    });
    const routes = this.api.addRoutes({
      path: '/{token}',
      methods: [HttpMethod.GET, HttpMethod.POST],
      integration: new HttpLambdaIntegration('Page', props.fn),
    });
    for (const route of routes) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions::AwsSolutions-APIG4',
        reason:
          'The acknowledgement page is opened from an SMS or an email on any phone, by people with no AWS ' +
          'identity: the single-use, expiring, 59-bit random token in the path is the authorisation. The page ' +
          'shows only references, levels and ages, and links to the case system, which needs sign-in.',
      });
    }
    // Built from the API's id rather than its ApiEndpoint attribute: the same address, and it keeps the
    // template deployable to moto_server (no API Gateway v2 there) for the deploy test.
    this.url = `https://${this.api.apiId}.execute-api.${stack.region}.${stack.urlSuffix}`;

    const fiveMinutes = Duration.minutes(5);
    const action = new SnsAction(props.opsTopic);
    const alarm = (alarmId: string, description: string, metric: IMetric, threshold = 1) => {
      const name = alarmName(props.stage, alarmId);
      this.alarmNames.push(name);
      const a = new Alarm(this, alarmId, {
        alarmName: name,
        alarmDescription: description,
        metric,
        threshold,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      a.addAlarmAction(action);
      a.addOkAction(action);
      return a;
    };
    this.alarms = {
      errors: alarm(
        'ack-errors',
        'The acknowledgement function failed: people opening alert links may see an error page.',
        props.fn.metricErrors({ period: fiveMinutes, statistic: 'Sum' }),
      ),
      // The function's own errors are above; this also sees the page failing when the function never
      // runs (throttled, deleted, or its invoke permission lost): people get an error page.
      apiErrors: alarm(
        'ack-api-errors',
        'The acknowledgement page answered with a server error (5xx): people opening alert links could not ' +
          'acknowledge. If ack-errors has not fired too, the function is not being reached: check its ' +
          'throttles, its reserved concurrency and its permission to be invoked by the API.',
        this.api.metricServerError({ period: fiveMinutes, statistic: 'Sum' }),
      ),
      failures: alarm(
        'ack-failures',
        'Acknowledgements could not be stored, or links could not be read (a table throttled or unreachable): ' +
          'people pressing the button were told nothing changed and to try again. Its log says which step failed.',
        queuewatchMetric(ACK_METRICS.failures, fiveMinutes),
      ),
      unaudited: alarm(
        'ack-unaudited',
        "Acknowledgements were stored but not written to the disclosure log. Each is in the function's log as " +
          '"acknowledgement not yet in the disclosure log": write it to the log by hand.',
        queuewatchMetric(ACK_METRICS.unaudited, fiveMinutes),
      ),
      refusalBurst: alarm(
        'ack-refusal-burst',
        `At least ${ACK_REFUSAL_BURST} acknowledgement links were refused in 5 minutes. A few are normal (old or used ` +
          "links); this many suggests someone guessing links, or a mail gateway re-opening old ones. The function's " +
          "log gives each refusal's reason; the access log, the user agents.",
        queuewatchMetric(ACK_METRICS.refused, fiveMinutes),
        ACK_REFUSAL_BURST,
      ),
    };
  }
}
