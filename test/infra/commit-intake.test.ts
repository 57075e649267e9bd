import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { env, queues } from '#shared/resources';
import { logicalId, policyStatements, synthesize, unacknowledgedFindings, type Synthesized } from './helpers.ts';

let synthesized: Synthesized;
let template: Template;

beforeAll(() => {
  synthesized = synthesize();
  template = synthesized.template;
});

type Resource = { Properties: Record<string, any> };

/** The function whose logical id contains `hint`. */
function lambda(hint: string): { id: string; resource: Resource } {
  const id = logicalId(template, 'AWS::Lambda::Function', hint);
  return { id, resource: template.findResources('AWS::Lambda::Function')[id] as Resource };
}

/** The statements of the policies attached to the role of the function whose logical id contains `hint`. */
function statementsOf(hint: string) {
  const role = (lambda(hint).resource.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === role))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
}

const actionsOf = (statements: { Action: string | string[] }[]) => statements.flatMap((s) => [s.Action].flat());

describe('commit intake', () => {
  it('has no cdk-nag finding left unacknowledged', () => {
    // Act
    const findings = unacknowledgedFindings(synthesized.stack).filter((f) => f.includes('/CommitIntake/'));

    // Assess
    expect(findings).toEqual([]);
  });

  it('puts the commit queue behind a DLQ with the receive count of #shared/resources, encrypted with its own key', () => {
    // Prepare
    const dlq = logicalId(template, 'AWS::SQS::Queue', 'CommitIntakeDeadLetterQueue');
    const key = logicalId(template, 'AWS::KMS::Key', 'CommitIntakeQueueKey');

    // Assess
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: queues.commit.visibilityTimeoutSeconds,
      KmsMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] },
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] }, maxReceiveCount: queues.commit.maxReceiveCount },
    });
  });

  it('feeds plan-evaluations from the commit queue with partial batch responses', () => {
    // Assess
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId(template, 'AWS::SQS::Queue', 'CommitIntakeQueue'), 'Arn'] },
      FunctionName: { Ref: lambda('PlanEvaluations').id },
      BatchSize: queues.commit.batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('lets plan-evaluations record requests and send them to the evaluation queue only', () => {
    // Act
    const statements = statementsOf('PlanEvaluations');
    const sends = statements.filter((s) => actionsOf([s]).includes('sqs:SendMessage'));

    // Assess
    expect(actionsOf(statements)).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:GetItem', 'dynamodb:Query']));
    expect(sends.flatMap((s) => [s.Resource].flat())).toEqual([{ 'Fn::GetAtt': [logicalId(template, 'AWS::SQS::Queue', 'EvaluationQueue'), 'Arn'] }]);
    expect(lambda('PlanEvaluations').resource.Properties.Environment.Variables[env.evaluationQueueUrl]).toBeDefined();
  });

  it('keeps the webhook secret in Secrets Manager and lets only the API function read it', () => {
    // Prepare
    const secret = logicalId(template, 'AWS::SecretsManager::Secret', 'GithubWebhookSecret');

    // Act
    // Other secrets (the GitHub results token) have readers of their own: only this secret's count here.
    const readers = policyStatements(template).filter(
      (s) => actionsOf([s]).includes('secretsmanager:GetSecretValue') && JSON.stringify(s.Resource).includes(secret),
    );
    const api = lambda('ApiHandler').resource.Properties.Environment.Variables;

    // Assess
    template.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'symbiont/dev/github-webhook-secret', GenerateSecretString: {} });
    expect(readers).toHaveLength(1);
    expect(readers[0]!.Resource).toEqual({ Ref: secret });
    expect(statementsOf('ApiHandler').some((s) => actionsOf([s]).includes('secretsmanager:GetSecretValue'))).toBe(true);
    expect(api[env.githubWebhookSecretArn]).toEqual({ Ref: secret });
    template.hasOutput('GithubWebhookSecretName', {});
  });

  it('lets the API and ingest send to the commit queue', () => {
    // Prepare
    const queue = { 'Fn::GetAtt': [logicalId(template, 'AWS::SQS::Queue', 'CommitIntakeQueue'), 'Arn'] };

    // Act
    const senders = ['ApiHandler', 'IngestUpload'].map((hint) =>
      statementsOf(hint)
        .filter((s) => actionsOf([s]).includes('sqs:SendMessage'))
        .flatMap((s) => [s.Resource].flat()),
    );

    // Assess
    for (const resources of senders) expect(resources).toContainEqual(queue);
    expect(lambda('IngestUpload').resource.Properties.Environment.Variables[env.commitQueueUrl]).toEqual({ Ref: logicalId(template, 'AWS::SQS::Queue', 'CommitIntakeQueue') });
  });

  it('declares POST /webhooks/github without authorization (the handler verifies its HMAC)', () => {
    // Act
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).filter((r) => r.Properties.RouteKey === 'POST /webhooks/github');

    // Assess
    expect(routes).toHaveLength(1);
    expect(routes[0]!.Properties.AuthorizationType).toBe('NONE');
  });

  it('expires delivery records with the table’s TTL attribute', () => {
    // Assess
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', { TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true } });
  });
});
