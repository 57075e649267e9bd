import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { queues } from '#shared/resources';
import { logicalId, policyStatements, wildcardActions, synthesize, unacknowledgedFindings, type Synthesized } from './helpers.ts';

let synthesized: Synthesized;
let template: Template;

beforeAll(() => {
  synthesized = synthesize();
  template = synthesized.template;
});

type Json = Record<string, unknown>;

/** The state machine's definition with its token parts joined back (ARNs become placeholders). */
function definition(): Json {
  const machine = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))[0]!;
  const body = machine.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] };
  const text = body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'arn:aws:lambda:us-east-1:000000000000:function:tasks')).join('');
  return JSON.parse(text) as Json;
}

/** Every state of a definition, nested Map processors included, by name. */
function allStates(graph: Json): Record<string, Json> {
  const states: Record<string, Json> = {};
  for (const [name, state] of Object.entries(graph.States as Record<string, Json>)) {
    states[name] = state;
    const processor = (state.ItemProcessor ?? state.Iterator) as Json | undefined;
    if (processor) Object.assign(states, allStates(processor));
  }
  return states;
}

describe('evaluation', () => {
  it('has no cdk-nag finding left unacknowledged', () => {
    // Act
    const findings = unacknowledgedFindings(synthesized.stack).filter((f) => f.includes('/Evaluation/'));

    // Assess
    expect(findings).toEqual([]);
  });

  it('puts the evaluation queue behind a DLQ with the receive count of #shared/resources', () => {
    // Prepare
    const dlq = logicalId(template, 'AWS::SQS::Queue', 'EvaluationDeadLetterQueue');

    // Assess
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: queues.evaluation.visibilityTimeoutSeconds,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] }, maxReceiveCount: queues.evaluation.maxReceiveCount },
    });
  });

  it('feeds start-evaluation from the queue with partial batch responses', () => {
    // Assess
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId(template, 'AWS::SQS::Queue', 'EvaluationQueue'), 'Arn'] },
      BatchSize: queues.evaluation.batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('defines the state machine in JSONPath with no Map running more than 40 at once', () => {
    // Act
    const states = allStates(definition());
    const maps = Object.values(states).filter((s) => s.Type === 'Map');

    // Assess
    expect(JSON.stringify(definition())).not.toMatch(/JSONata|"Assign"|"Arguments"|ItemReader|DISTRIBUTED/);
    expect(maps.length).toBeGreaterThanOrEqual(3);
    for (const map of maps) expect(map.MaxConcurrency as number).toBeLessThanOrEqual(40);
  });

  it('discards what each Map iteration returns', () => {
    // Act
    const maps = Object.values(allStates(definition())).filter((s) => s.Type === 'Map');

    // Assess
    for (const map of maps) expect(map.ResultPath).toBeNull();
  });

  it('retries every task on its own service’s transient errors', () => {
    // Act
    const taskStates = Object.entries(allStates(definition())).filter(([, s]) => s.Type === 'Task');
    const retried = (state: Record<string, any>) => (state.Retry as { ErrorEquals: string[] }[]).flatMap((r) => r.ErrorEquals);

    // Assess: the tasks function's states on Lambda's errors, the stage's ECS and ECR calls on theirs.
    expect(taskStates.length).toBeGreaterThanOrEqual(12);
    for (const [name, state] of taskStates) {
      const resource = String(state.Resource);
      const expected = resource.includes(':ecs:')
        ? ['ECS.ServerException', 'ECS.ThrottlingException']
        : resource.includes(':ecr:')
          ? ['Ecr.ServerException', 'Ecr.ThrottlingException']
          : ['TransientTaskError', 'Lambda.ServiceException'];
      expect({ name, retried: retried(state) }).toEqual({ name, retried: expect.arrayContaining(expected) });
      if (resource.includes(':ecs:') || resource.includes(':ecr:')) expect({ name, retried: retried(state) }).not.toEqual({ name, retried: expect.arrayContaining(['Lambda.ServiceException']) });
    }
  });

  it('records a failing stage through RecordFailure', () => {
    // Act
    const states = allStates(definition());

    // Assess
    expect(states.RunStages!.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordFailure' }]);
  });

  it('logs every execution and traces it with X-Ray', () => {
    // Assess
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'symbiont-dev-evaluate',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL' },
    });
  });

  it('lets start-evaluation start executions of the one state machine only', () => {
    // Prepare
    const machine = logicalId(template, 'AWS::StepFunctions::StateMachine', 'EvaluationStateMachine');

    // Act
    const starts = policyStatements(template).filter((s) => [s.Action].flat().includes('states:StartExecution'));

    // Assess
    expect(starts).toHaveLength(1);
    expect(starts[0]!.Resource).toEqual({ Ref: machine });
  });

  it('lets the API stop executions of the evaluation state machine only (cancel), and tells it the machine', () => {
    // Prepare
    const machine = logicalId(template, 'AWS::StepFunctions::StateMachine', 'EvaluationStateMachine');
    const fn = template.findResources('AWS::Lambda::Function')[logicalId(template, 'AWS::Lambda::Function', 'ApiHandler')]!;
    const apiRole = (fn.Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];

    // Act
    const stops = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === apiRole))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[])
      .filter((s) => [s.Action].flat().includes('states:StopExecution'));
    const everyStop = policyStatements(template).filter((s) => [s.Action].flat().includes('states:StopExecution'));

    // Assess
    expect(stops).toHaveLength(1);
    expect([stops[0]!.Action].flat()).toEqual(['states:StopExecution']);
    expect(JSON.stringify(stops[0]!.Resource)).toContain(':execution:symbiont-dev-evaluate:*');
    // The state machine's own role stops nothing it did not start; only the API holds the grant.
    expect(everyStop).toHaveLength(1);
    expect(fn.Properties.Environment.Variables.STATE_MACHINE_ARN).toEqual({ Ref: machine });
  });

  it('grants no wildcard action', () => {
    // Act
    const wildcards = wildcardActions(policyStatements(template));

    // Assess
    expect(wildcards).toEqual([]);
  });
});
