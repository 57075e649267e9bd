import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { queues } from '#shared/resources';
import { logicalId, synthesize } from './helpers.ts';

/** Alarms, their topic and the dashboard (the Operations issue). */

type Json = Record<string, any>;
let template: Template;
let alarms: Json[];

/** Functions CDK adds for itself (bucket notifications, the VPC's default security group). */
const cdkInternal = /^(BucketNotificationsHandler|CustomVpcRestrictDefaultSG)/;

beforeAll(() => {
  template = synthesize({ alarmEmail: 'oncall@example.com' }).template;
  alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties as Json);
});

/** The alarms on a metric of a resource (by the logical id its dimension refers to). */
function alarmsOn(metricName: string, resource: string): Json[] {
  return alarms.filter((a) => a.MetricName === metricName && JSON.stringify(a.Dimensions ?? []).includes(resource));
}

describe('operations', () => {
  it('sends every alarm, and its recovery, to one KMS-encrypted, TLS-only topic mailed to the alarm email', () => {
    // Act
    const topic = logicalId(template, 'AWS::SNS::Topic', 'Alarms');

    // Assess
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [logicalId(template, 'AWS::KMS::Key', 'TopicKey'), 'Arn'] } });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com', TopicArn: { Ref: topic } });
    expect(JSON.stringify(template.findResources('AWS::SNS::TopicPolicy'))).toContain('aws:SecureTransport');
    expect(alarms.length).toBeGreaterThan(10);
    for (const alarm of alarms) {
      expect(alarm.AlarmActions).toEqual([{ Ref: topic }]);
      expect(alarm.OKActions).toEqual([{ Ref: topic }]);
      expect(alarm.AlarmDescription).toMatch(/Runbook: README "Operations" → "[^"]+"\./);
    }
  });

  it('raises an alarm as soon as any work queue’s DLQ holds a message', () => {
    for (const queue of Object.keys(queues)) {
      const dlq = Object.keys(template.findResources('AWS::SQS::Queue')).find((id) => id.toLowerCase().startsWith(queue === 'commit' ? 'commitintake' : queue) && id.includes('DeadLetterQueue'));
      expect({ queue, dlq }).toEqual({ queue, dlq: expect.any(String) });
      const [alarm] = alarmsOn('ApproximateNumberOfMessagesVisible', dlq!);
      expect(alarm).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 1 });
    }
  });

  it('raises alarms on failed and timed-out evaluation executions', () => {
    const machine = logicalId(template, 'AWS::StepFunctions::StateMachine', 'StateMachine');
    expect(alarmsOn('ExecutionsFailed', machine)).toHaveLength(1);
    expect(alarmsOn('ExecutionsTimedOut', machine)).toHaveLength(1);
  });

  it('watches every Symbiont function for errors and throttles', () => {
    // Act
    const functions = Object.keys(template.findResources('AWS::Lambda::Function')).filter((id) => !cdkInternal.test(id));

    // Assess
    expect(functions.length).toBeGreaterThanOrEqual(6);
    for (const fn of functions) {
      expect({ fn, errors: alarmsOn('Errors', fn).length, throttles: alarmsOn('Throttles', fn).length }).toEqual({ fn, errors: 1, throttles: 1 });
    }
  });

  it('raises an alarm when the data API answers 5xx', () => {
    expect(alarmsOn('5xx', logicalId(template, 'AWS::ApiGatewayV2::Api', 'HttpApi'))).toHaveLength(1);
  });

  it('watches the SFTP server’s log for errors when the stack has one', () => {
    // Act
    const withSftp = synthesize({ 'sftp.enabled': true }).template;

    // Assess
    withSftp.hasResourceProperties('AWS::Logs::MetricFilter', { FilterPattern: 'ERROR', MetricTransformations: [{ MetricNamespace: 'Symbiont', MetricName: 'SftpErrors', MetricValue: '1' }] });
    expect(Object.values(withSftp.findResources('AWS::CloudWatch::Alarm')).some((a) => a.Properties.MetricName === 'SftpErrors')).toBe(true);
    expect(Object.values(template.findResources('AWS::CloudWatch::Alarm')).some((a) => a.Properties.MetricName === 'SftpErrors')).toBe(false);
  }, 180_000);

  it('draws one dashboard of alarms, dead letters, executions, functions and the API', () => {
    // Act
    const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboards[0]!.Properties.DashboardBody);

    // Assess
    expect(dashboards).toHaveLength(1);
    for (const title of ['Alarms', 'Dead letters', 'Evaluation executions', 'Function errors', 'Function duration (p99)', 'Data API', 'Uploads by outcome', 'Evaluations by verdict', 'Reports by status']) {
      expect(body).toContain(`\\"title\\":\\"${title}\\"`);
    }
    expect(body).toContain('SEARCH(');
  });
});
