import type { Template } from 'aws-cdk-lib/assertions';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { logicalId, synthesize, wildcardActions, type Synthesized } from './helpers.ts';

/** Where stage tasks run in AWS: the network, the Fargate cluster, their roles and logs. */

let synthesized: Synthesized;
let template: Template;

beforeAll(() => {
  synthesized = synthesize();
  template = synthesized.template;
});

type Statement = { Sid?: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

/** The statements of the policy attached to the role whose logical id contains `hint`. */
function roleStatements(hint: string): Statement[] {
  const role = logicalId(template, 'AWS::IAM::Role', hint);
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
    (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === role),
  );
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

describe('the stage runtime', () => {
  it('runs stages on a Fargate cluster with Container Insights', () => {
    // Assess
    template.hasResourceProperties('AWS::ECS::Cluster', { ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }] });
  });

  it('puts stage tasks in public subnets without a NAT gateway by default', () => {
    // Assess
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.hasResourceProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: true, Tags: Match.arrayWith([{ Key: 'aws-cdk:subnet-name', Value: 'stages' }]) });
  });

  it('lets stage containers write only under evaluations/ of the data bucket', () => {
    // Act
    const writes = roleStatements('StageTaskRole').filter((s) => [s.Action].flat().some((a) => a.startsWith('s3:Put')));

    // Assess
    expect(writes).toHaveLength(1);
    expect(writes[0]!.Action).toBe('s3:PutObject');
    expect(JSON.stringify(writes[0]!.Resource)).toMatch(/\/evaluations\/\*"/);
  });

  it('lets stage containers list the data bucket only under evaluations/', () => {
    // Act
    const list = roleStatements('StageTaskRole').find((s) => s.Action === 's3:ListBucket');

    // Assess
    expect(list?.Condition).toEqual({ StringLike: { 's3:prefix': ['evaluations/*'] } });
  });

  it('grants no wildcard IAM action to the stage roles', () => {
    // Act
    const wildcards = wildcardActions([...roleStatements('StageTaskRole'), ...roleStatements('StageExecutionRole')]);

    // Assess
    expect(wildcards).toEqual([]);
  });

  it('sends stage containers’ logs to a CloudWatch log group of their own', () => {
    // Act
    const writes = roleStatements('StageExecutionRole').find((s) => s.Sid === 'WriteStageLogs');

    // Assess
    expect(JSON.stringify(writes?.Resource)).toContain(logicalId(template, 'AWS::Logs::LogGroup', 'StageLogs'));
  });
});
