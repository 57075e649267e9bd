import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluationDefinitionJson } from '../../infra/constructs/evaluation-definition.ts';
import { logicalId, synthesize } from './helpers.ts';

/** RunStage in AWS: the stage's task definition found or registered, then ECS RunTask .sync on Fargate. */

type Json = Record<string, any>;
let template: Template;
let states: Record<string, Json>;

/** The deployed definition, every CloudFormation token written as `{{<its JSON>}}`. */
function definition(): Json {
  const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0]!;
  const body = machine.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] };
  const text = body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : `{{${JSON.stringify(part).replace(/"/g, "'")}}}`)).join('');
  return JSON.parse(text) as Json;
}

function allStates(graph: Json): Record<string, Json> {
  const found: Record<string, Json> = {};
  for (const [name, state] of Object.entries(graph.States as Record<string, Json>)) {
    found[name] = state;
    const processor = state.ItemProcessor ?? state.Iterator;
    if (processor) Object.assign(found, allStates(processor));
  }
  return found;
}

beforeAll(() => {
  template = synthesize().template;
  states = allStates(definition());
});

describe('stages on ECS', () => {
  it('runs each stage as ECS RunTask .sync on Fargate in the stage cluster', () => {
    // Act
    const run = states.RunStage!;

    // Assess
    expect(run.Resource).toBe('arn:aws:states:::ecs:runTask.sync');
    expect(run.Parameters.LaunchType).toBe('FARGATE');
    expect(run.Parameters.Cluster).toContain(logicalId(template, 'AWS::ECS::Cluster', 'StageCluster'));
    expect(run.Parameters['TaskDefinition.$']).toBe('$.stageTask.arn');
    expect(run.Parameters['StartedBy.$']).toBe('$.evaluationId');
  });

  it('passes the stage run to the wrapper as the container override SYMBIONT_RUN', () => {
    // Act
    const overrides = states.RunStage!.Parameters.Overrides.ContainerOverrides;

    // Assess
    expect(overrides).toEqual([{ Name: 'stage', Environment: [{ Name: 'SYMBIONT_RUN', 'Value.$': 'States.JsonToString($)' }] }]);
  });

  it('gives stage tasks public IPs in the public subnets by default', () => {
    // Act
    const network = states.RunStage!.Parameters.NetworkConfiguration.AwsvpcConfiguration;

    // Assess
    expect(network.AssignPublicIp).toBe('ENABLED');
    expect(network.Subnets.length).toBeGreaterThan(0);
  });

  it('bounds a stage task by the run’s task timeout', () => {
    expect(states.RunStage!.TimeoutSecondsPath).toBe('$.taskTimeoutSeconds');
  });

  it('resolves the commit’s image tag to its digest in ECR first', () => {
    // Act
    const resolve = states.ResolveStageImage!;

    // Assess
    expect(resolve.Resource).toBe('arn:aws:states:::aws-sdk:ecr:describeImages');
    expect(resolve.Parameters).toEqual({ 'RepositoryName.$': '$.ecrRepository', ImageIds: [{ 'ImageTag.$': '$.imageTag' }] });
    expect(resolve.ResultSelector['digest.$']).toBe('$.ImageDetails[0].ImageDigest');
    // The reference the task runs is pinned to the digest: a tag pushed again cannot change what runs.
    expect(resolve.ResultSelector['reference.$']).toMatch(/^States\.Format\('\{\}\.dkr\.ecr\..+\/\{\}@\{\}', \$\.ImageDetails\[0\]\.RegistryId, \$\.ImageDetails\[0\]\.RepositoryName, \$\.ImageDetails\[0\]\.ImageDigest\)$/);
    expect(resolve.ResultPath).toBe('$.stageImage');
    expect(resolve.Next).toBe('FindStageTask');
  });

  it('fails the point with a message saying what CI must push when the image is not in ECR', () => {
    // Act
    const catches = states.ResolveStageImage!.Catch as Json[];
    const missing = states[catches[0]!.Next]!;

    // Assess
    expect(catches).toEqual([{ ErrorEquals: ['Ecr.ImageNotFoundException', 'Ecr.RepositoryNotFoundException'], ResultPath: '$.error', Next: 'StageImageMissing' }]);
    expect(missing).toMatchObject({ Type: 'Fail', Error: 'StageImageMissingError' });
    expect(missing.CausePath).toContain('tags it with the commit sha');
  });

  it('lets the state machine read image digests and nothing else of ECR', () => {
    // Act
    const machineRole = logicalId(template, 'AWS::IAM::Role', 'StateMachineRole');
    const ecr = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === machineRole))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Json[])
      .filter((s) => [s.Action].flat().some((a: string) => a.startsWith('ecr:')));

    // Assess
    expect(ecr).toHaveLength(1);
    expect(ecr[0]!.Action).toBe('ecr:DescribeImages');
  });

  it('looks the stage image’s task definition up before registering one', () => {
    // Act
    const find = states.FindStageTask!;

    // Assess
    expect(find.Resource).toBe('arn:aws:states:::aws-sdk:ecs:describeTaskDefinition');
    expect(find.Next).toBe('RunStage');
    expect(find.Catch).toEqual([{ ErrorEquals: ['Ecs.ClientException', 'ECS.ClientException'], ResultPath: null, Next: 'RegisterStageTask' }]);
  });

  it('registers a Fargate task definition per image digest with the stage roles and CloudWatch logs', () => {
    // Act
    const register = states.RegisterStageTask!.Parameters;

    // Assess
    expect(register['Family.$']).toBe("States.Format('symbiont-dev-stage-{}', States.Hash($.stageImage.reference, 'SHA-256'))");
    expect(states.FindStageTask!.Parameters['TaskDefinition.$']).toBe(register['Family.$']);
    expect(register.RequiresCompatibilities).toEqual(['FARGATE']);
    expect(register.TaskRoleArn).toContain(logicalId(template, 'AWS::IAM::Role', 'StageTaskRole'));
    expect(register.ExecutionRoleArn).toContain(logicalId(template, 'AWS::IAM::Role', 'StageExecutionRole'));
    expect(register.ContainerDefinitions[0]).toMatchObject({ Name: 'stage', 'Image.$': '$.stageImage.reference', LogConfiguration: { LogDriver: 'awslogs' } });
  });

  it('fails the stage when its container exits non-zero', () => {
    // Act
    const exited = states['StageExited?']!;

    // Assess
    expect(exited.Choices).toEqual([{ Variable: '$.stageExit.exitCode', NumericEquals: 0, Next: 'StageSucceeded' }]);
    expect(states[exited.Default]).toMatchObject({ Type: 'Fail', Error: 'StageFailedError' });
  });

  it('lets the state machine pass only the two stage roles', () => {
    // Act
    const machineRole = logicalId(template, 'AWS::IAM::Role', 'StateMachineRole');
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === machineRole))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Json[]);
    const passRole = statements.filter((s) => [s.Action].flat().includes('iam:PassRole'));

    // Assess
    expect(passRole).toHaveLength(1);
    expect(JSON.stringify(passRole[0]!.Resource)).toContain('StageTaskRole');
    expect(JSON.stringify(passRole[0]!.Resource)).toContain('StageExecutionRole');
    expect(passRole[0]!.Resource).toHaveLength(2);
  });

  it('keeps the local definition’s RunStage a payload of the run, which the local runtime overrides', () => {
    // Act
    const local = allStates(evaluationDefinitionJson());

    // Assess
    expect(local.RunStage!.Parameters).toMatchObject({ task: 'run-stage', 'run.$': '$' });
    expect(local.FindStageTask).toBeUndefined();
    expect(local.ResolveStageImage).toBeUndefined();
  });
});
