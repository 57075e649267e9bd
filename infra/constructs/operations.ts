import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '#shared/metrics';

export interface OperationsProps {
  readonly stage: string;
  /** Where alarms are mailed (the `alarmEmail` knob); without it they go to the topic only. */
  readonly alarmEmail?: string;
  /** Every Symbiont function, by a name people know it by (`ingest-upload`, `api`, …). */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /** Every work queue's dead-letter queue, by queue name. */
  readonly deadLetterQueues: Readonly<Record<string, sqs.IQueue>>;
  readonly stateMachine: sfn.IStateMachine;
  readonly httpApi: apigwv2.IHttpApi;
  /** The Transfer Family server's structured log group, when the stack has one. */
  readonly sftpLogs?: logs.ILogGroup;
}

/**
 * What an on-call engineer needs (the Operations issue): an alarm for every way Symbiont can need
 * a person — a message in a DLQ, a failed or timed-out evaluation execution, a function failing or
 * throttled, the API answering 5xx, the SFTP server logging errors — all to one encrypted SNS topic
 * (mailed to the `alarmEmail` knob), and one dashboard of the same. Each alarm's description says
 * what it means and points at the README's runbook entry.
 */
export class Operations extends Construct {
  public readonly topic: sns.Topic;
  public readonly dashboard: cloudwatch.Dashboard;
  /** Every alarm, by its runbook entry's name. */
  public readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    const key = new kms.Key(this, 'TopicKey', { description: 'Symbiont alarm topic', enableKeyRotation: true });
    // CloudWatch publishes alarms to the encrypted topic with this key.
    key.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey');
    this.topic = new sns.Topic(this, 'Alarms', { displayName: `Symbiont ${props.stage} alarms`, masterKey: key, enforceSSL: true });
    if (props.alarmEmail) this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    const notify = new actions.SnsAction(this.topic);
    const alarms: Record<string, cloudwatch.Alarm> = {};
    const runbook = (entry: string) => `Runbook: README "Operations" → "${entry}".`;
    const alarm = (name: string, metric: cloudwatch.IMetric, description: string, entry: string, threshold = 1) => {
      const created = new cloudwatch.Alarm(this, name, {
        alarmName: `symbiont-${props.stage}-${name}`,
        alarmDescription: `${description} ${runbook(entry)}`,
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(notify);
      created.addOkAction(notify);
      alarms[name] = created;
      return created;
    };
    const fiveMinutes = { period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM };

    for (const [queue, dlq] of Object.entries(props.deadLetterQueues)) {
      alarm(
        `${queue}-dead-letters`,
        dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: cloudwatch.Stats.MAXIMUM }),
        `A message of the ${queue} queue failed on every try and waits in its DLQ.`,
        'Dead letters',
      );
    }
    alarm('executions-failed', props.stateMachine.metricFailed(fiveMinutes), 'An evaluation execution failed (a part could not be prepared, tallied or finished).', 'Failed executions');
    alarm('executions-timed-out', props.stateMachine.metricTimedOut(fiveMinutes), 'An evaluation execution ran past its 7-day limit.', 'Failed executions');
    for (const [name, fn] of Object.entries(props.functions)) {
      alarm(`${name}-errors`, fn.metricErrors(fiveMinutes), `The ${name} function failed (an invocation threw or timed out).`, 'Function errors');
      alarm(`${name}-throttles`, fn.metricThrottles(fiveMinutes), `The ${name} function was throttled (the account's concurrency ran out).`, 'Function throttles');
    }
    const api5xx = new cloudwatch.Metric({ namespace: 'AWS/ApiGateway', metricName: '5xx', dimensionsMap: { ApiId: props.httpApi.apiId }, ...fiveMinutes });
    alarm('api-5xx', api5xx, 'The data API answered 5xx (an internal error or an unavailable dependency).', 'API errors', 5);
    if (props.sftpLogs) {
      const sftpErrors = new logs.MetricFilter(this, 'SftpErrorsFilter', {
        logGroup: props.sftpLogs,
        filterPattern: logs.FilterPattern.literal('ERROR'),
        metricNamespace: 'Symbiont',
        metricName: 'SftpErrors',
        metricValue: '1',
      });
      alarm('sftp-errors', sftpErrors.metric(fiveMinutes), 'The SFTP server (Transfer Family) logged errors.', 'SFTP errors');
    }
    this.alarms = alarms;

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: `symbiont-${props.stage}` });
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: Object.values(alarms), width: 24, height: 4 }),
      new cloudwatch.GraphWidget({
        title: 'Dead letters',
        left: Object.entries(props.deadLetterQueues).map(([queue, dlq]) => dlq.metricApproximateNumberOfMessagesVisible({ label: queue, period: Duration.minutes(1), statistic: cloudwatch.Stats.MAXIMUM })),
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Evaluation executions',
        left: [props.stateMachine.metricSucceeded({ ...fiveMinutes, label: 'succeeded' }), props.stateMachine.metricFailed({ ...fiveMinutes, label: 'failed' }), props.stateMachine.metricTimedOut({ ...fiveMinutes, label: 'timed out' })],
        width: 12,
      }),
      new cloudwatch.GraphWidget({ title: 'Function errors', left: Object.entries(props.functions).map(([name, fn]) => fn.metricErrors({ ...fiveMinutes, label: name })), width: 12 }),
      new cloudwatch.GraphWidget({
        title: 'Function duration (p99)',
        left: Object.entries(props.functions).map(([name, fn]) => fn.metricDuration({ period: Duration.minutes(5), statistic: 'p99', label: name })),
        width: 12,
      }),
      // What Symbiont itself counts (layers/shared/metrics.ts, embedded metric format): every dimension combination found.
      ...(
        [
          ['Uploads by outcome', 'Uploads', 'outcome,dataset,service', 'Sum'],
          ['Ingest speed (MB/s)', 'IngestMegabytesPerSecond', 'dataset,service', 'Average'],
          ['Evaluations by verdict', 'Evaluations', 'pipeline,verdict,service', 'Sum'],
          ['Regressions', 'Regressions', 'pipeline,service', 'Sum'],
          ['Reports by status', 'Reports', 'status,service', 'Sum'],
        ] as const
      ).map(
        ([title, metric, dimensions, stat]) =>
          new cloudwatch.GraphWidget({
            title,
            left: [new cloudwatch.MathExpression({ expression: `SEARCH('{${METRICS_NAMESPACE},${dimensions}} MetricName="${metric}"', '${stat}', 300)`, usingMetrics: {}, label: metric, period: Duration.minutes(5) })],
            width: 12,
          }),
      ),
      new cloudwatch.GraphWidget({
        title: 'Data API',
        left: ['4xx', '5xx'].map((metricName) => new cloudwatch.Metric({ namespace: 'AWS/ApiGateway', metricName, dimensionsMap: { ApiId: props.httpApi.apiId }, ...fiveMinutes, label: metricName })),
        right: [new cloudwatch.Metric({ namespace: 'AWS/ApiGateway', metricName: 'Latency', dimensionsMap: { ApiId: props.httpApi.apiId }, period: Duration.minutes(5), statistic: 'p99', label: 'latency p99' })],
        width: 12,
      }),
    );
  }
}
