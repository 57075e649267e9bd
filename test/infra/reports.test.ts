import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { env, queues } from '#shared/resources';
import { logicalId, policyStatements, synthesize, unacknowledgedFindings, wildcardActions, type Synthesized } from './helpers.ts';

let synthesized: Synthesized;
let template: Template;

beforeAll(() => {
  synthesized = synthesize();
  template = synthesized.template;
});

type Json = Record<string, any>;

/** The policy statements of the role whose logical id contains `hint`. */
function statementsOf(hint: string): Json[] {
  const role = logicalId(template, 'AWS::IAM::Role', hint);
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as Json[]).some((r) => r.Ref === role))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Json[]);
}

/** The `Fn::Join` of an object ARN, read back as `<bucket>/<suffix>`. */
function objectArns(statement: Json): string[] {
  return [statement.Resource]
    .flat()
    .map((r: Json) => (r['Fn::Join'] ? (r['Fn::Join'][1] as unknown[]).filter((p) => typeof p === 'string').join('') : JSON.stringify(r)));
}

describe('reports', () => {
  it('has no cdk-nag finding left unacknowledged', () => {
    // Act
    const findings = unacknowledgedFindings(synthesized.stack).filter((f) => f.includes('/Reports/'));

    // Assess
    expect(findings).toEqual([]);
  });

  it('puts the report queue behind a DLQ with the receive count of #shared/resources', () => {
    // Prepare
    const dlq = logicalId(template, 'AWS::SQS::Queue', 'ReportsDeadLetterQueue');

    // Assess
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: queues.report.visibilityTimeoutSeconds,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] }, maxReceiveCount: queues.report.maxReceiveCount },
    });
  });

  it('feeds render-report one report at a time with partial batch responses', () => {
    // Assess
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId(template, 'AWS::SQS::Queue', 'ReportsQueue'), 'Arn'] },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('gives render-report the time a notebook may take', () => {
    // Prepare
    const role = logicalId(template, 'AWS::IAM::Role', 'ReportsRenderReportRole');

    // Assess
    template.hasResourceProperties('AWS::Lambda::Function', {
      Role: { 'Fn::GetAtt': [role, 'Arn'] },
      Timeout: queues.report.consumerTimeoutSeconds,
      Runtime: 'nodejs22.x',
    });
  });

  it('lets render-report write only under reports/ and read templates, dataset versions and evaluation outputs', () => {
    // Act
    const statements = statementsOf('ReportsRenderReportRole');
    const writes = statements.filter((s) => [s.Action].flat().includes('s3:PutObject'));
    const reads = statements.filter((s) => [s.Action].flat().includes('s3:GetObject'));

    // Assess
    expect(writes.flatMap(objectArns)).toEqual(['/reports/*']);
    expect(reads.flatMap(objectArns).sort()).toEqual(['/datasets/*', '/evaluations/*', '/templates/*']);
  });

  it('lets the API store template notebooks, presign reports and queue report messages', () => {
    // Prepare
    const queue = logicalId(template, 'AWS::SQS::Queue', 'ReportsQueue');

    // Act
    const statements = statementsOf('ApiHandlerRole');
    const sends = statements.filter((s) => [s.Action].flat().includes('sqs:SendMessage'));
    const puts = statements.filter((s) => s.Sid === 'StoreTemplates');

    // Assess
    expect(sends.flatMap((s) => [s.Resource].flat())).toContainEqual({ 'Fn::GetAtt': [queue, 'Arn'] });
    expect(puts.flatMap(objectArns)).toEqual(['/templates/*']);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { [env.reportQueueUrl]: { Ref: queue } } },
    });
  });

  it('grants no wildcard action', () => {
    // Assess
    expect(wildcardActions(policyStatements(template))).toEqual([]);
  });
});
