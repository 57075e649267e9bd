import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiRoutes } from '#api/api';
import { queues } from '#shared/resources';
import { logicalId, synthesize } from './helpers.ts';

let template: Template;

beforeAll(() => {
  template = synthesize().template;
});

type RouteResource = { Properties: { RouteKey: string; AuthorizationType?: string } };

function routes(): Map<string, RouteResource['Properties']> {
  const found = template.findResources('AWS::ApiGatewayV2::Route') as Record<string, RouteResource>;
  return new Map(Object.values(found).map((r) => [r.Properties.RouteKey, r.Properties]));
}

describe('data API', () => {
  it('declares every route of the router, and a default route for the rest', () => {
    const keys = [...routes().keys()].sort();
    const expected = [...apiRoutes.map((r) => `${r.method.toUpperCase()} ${r.path}`), '$default'].sort();
    expect(keys).toEqual(expected);
  });

  it('puts every data route, and the default route, behind IAM authorization', () => {
    const dataRoutes = apiRoutes.filter((r) => r.access !== 'public');
    expect(dataRoutes.length).toBeGreaterThan(0);
    for (const route of dataRoutes) {
      expect(routes().get(`${route.method.toUpperCase()} ${route.path}`)?.AuthorizationType).toBe('AWS_IAM');
    }
    expect(routes().get('$default')?.AuthorizationType).toBe('AWS_IAM');
  });

  it('leaves only the public routes open', () => {
    const open = [...routes()].filter(([, r]) => r.AuthorizationType === undefined || r.AuthorizationType === 'NONE').map(([key]) => key);
    expect(open.sort()).toEqual(apiRoutes.filter((r) => r.access === 'public').map((r) => `${r.method.toUpperCase()} ${r.path}`).sort());
    expect(open).toContain('GET /health');
  });

  it('throttles the stage and writes JSON access logs to a log group with a retention', () => {
    const logs = logicalId(template, 'AWS::Logs::LogGroup', 'AccessLogs');
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [logs, 'Arn'] }, Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"') },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  });

  it('creates one IAM role per app role and tells the router which is which', () => {
    for (const role of ['admin', 'scientist', 'uploader']) {
      template.hasResourceProperties('AWS::IAM::Role', { RoleName: `symbiont-dev-${role}` });
    }
    const fn = template.findResources('AWS::Lambda::Function')[logicalId(template, 'AWS::Lambda::Function', 'ApiHandler')]!;
    const roleMap = JSON.parse(fn.Properties.Environment.Variables.ROLE_MAP as string);
    expect(roleMap).toEqual({
      'symbiont-dev-admin': 'admin',
      'symbiont-dev-scientist': 'scientist',
      'symbiont-dev-uploader': { role: 'uploader', name: 'uploader', datasets: ['readings'] },
    });
  });

  it('lets a role invoke only the routes its app role may use', () => {
    const uploaderRole = logicalId(template, 'AWS::IAM::Role', 'UploaderRole');
    const policy = Object.values(template.findResources('AWS::IAM::Policy')).find((p) =>
      (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === uploaderRole),
    )!;
    const statement = policy.Properties.PolicyDocument.Statement[0];
    expect(statement.Action).toBe('execute-api:Invoke');
    const allowed = apiRoutes.filter((r) => r.access !== 'public' && r.access.includes('uploader'));
    expect([statement.Resource].flat()).toHaveLength(allowed.length);
  });

  it('gives the API function reads of the table, and the writes that record commits and evaluation requests', () => {
    const role = logicalId(template, 'AWS::IAM::Role', 'ApiHandlerRole');
    const policy = Object.values(template.findResources('AWS::IAM::Policy')).find((p) =>
      (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === role),
    )!;
    const actions = (policy.Properties.PolicyDocument.Statement as { Action: string | string[] }[]).flatMap((s) => [s.Action].flat());
    expect([...new Set(actions.filter((a) => a.startsWith('dynamodb:')))].sort()).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
  });

  it('lets admins manage the DLQ of every work queue, and only read, delete and send on them', () => {
    // Act
    const fn = template.findResources('AWS::Lambda::Function')[logicalId(template, 'AWS::Lambda::Function', 'ApiHandler')]!;
    const value = fn.Properties.Environment.Variables.DEAD_LETTER_QUEUES as { 'Fn::Join': [string, unknown[]] };
    const text = value['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : `<${(part as { Ref: string }).Ref}>`)).join('');
    const wired = JSON.parse(text) as Record<string, { queueUrl: string; deadLetterQueueUrl: string }>;
    const apiRole = (fn.Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === apiRole))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
    const sqsActions = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('sqs:')));

    // Assess: every queue of #shared/resources, each with its own DLQ.
    expect(Object.keys(wired).sort()).toEqual(Object.keys(queues).sort());
    for (const [name, urls] of Object.entries(wired)) {
      expect(urls.queueUrl.toLowerCase()).toContain(name);
      expect(urls.deadLetterQueueUrl).toContain('DeadLetterQueue');
    }
    const resourcesOf = (action: string) =>
      sqsActions.filter((s) => [s.Action].flat().includes(action)).flatMap((s) => [s.Resource].flat().map((r) => JSON.stringify(r)));
    expect(new Set(sqsActions.flatMap((s) => [s.Action].flat()))).toEqual(new Set(['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage', 'sqs:SendMessage']));
    for (const action of ['sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ReceiveMessage']) {
      expect(resourcesOf(action)).toHaveLength(4);
      for (const resource of resourcesOf(action)) expect(resource).toContain('DeadLetterQueue');
    }
    expect(resourcesOf('sqs:SendMessage')).toHaveLength(4);
    for (const resource of resourcesOf('sqs:SendMessage')) expect(resource).not.toContain('DeadLetterQueue');
  });
});
