import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthesize, unacknowledgedFindings, type Synthesized } from './helpers.ts';

/** X-Ray traces on every function and the evaluation state machine (the Operations issue). */

type Json = Record<string, any>;
let synthesized: Synthesized;
let template: Template;

/** Functions CDK adds for itself (bucket notifications, the VPC's default security group): not Symbiont's code. */
const cdkInternal = /^(BucketNotificationsHandler|CustomVpcRestrictDefaultSG)/;

beforeAll(() => {
  synthesized = synthesize();
  template = synthesized.template;
});

function symbiontFunctions(): [string, Json][] {
  return Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) => !cdkInternal.test(id));
}

/** The statements of the policies attached to `roleId`. */
function roleStatements(roleId: string): Json[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as Json[]).some((r) => r.Ref === roleId))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Json[]);
}

describe('tracing', () => {
  it('traces every function actively, zip and container image alike, each under its own service name', () => {
    // Act
    const functions = symbiontFunctions();

    // Assess: the six handlers, render-report (an image) among them.
    expect(functions.map(([id]) => id.replace(/Function[0-9A-F]{8}$/, '')).sort()).toEqual([
      'ApiHandler',
      'CommitIntakePlanEvaluations',
      'EvaluationStartEvaluation',
      'EvaluationTasks',
      'IngestIngestUpload',
      'ReportsRenderReport',
    ]);
    expect(functions.filter(([, fn]) => fn.Properties.PackageType === 'Image').length).toBe(1);
    for (const [id, fn] of functions) {
      expect([id, fn.Properties.TracingConfig]).toEqual([id, { Mode: 'Active' }]);
      expect([id, fn.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME]).toEqual([id, expect.stringMatching(/^symbiont-[a-z-]+$/)]);
    }
    const services = functions.map(([, fn]) => fn.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME as string);
    expect(new Set(services).size).toBe(services.length);
  });

  it('traces the evaluation state machine', () => {
    // Assess
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', { TracingConfiguration: { Enabled: true } });
  });

  it('lets each function write its segments, and has X-Ray as the only grant on "*" in a function role', () => {
    for (const [id, fn] of symbiontFunctions()) {
      // Act
      const statements = roleStatements(fn.Properties.Role['Fn::GetAtt'][0] as string);
      const onEverything = statements.filter((s) => [s.Resource].flat().includes('*'));

      // Assess: X-Ray's two specific actions, which take no resource but "*"; nothing else rides on the acknowledgement.
      expect([id, onEverything]).toEqual([id, [expect.objectContaining({ Effect: 'Allow', Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Resource: '*' })]]);
    }
  });

  it('acknowledges the X-Ray wildcard with its reason, leaving no finding behind', () => {
    // Act
    const findings = unacknowledgedFindings(synthesized.stack).filter((f) => f.startsWith('AwsSolutions-IAM5'));

    // Assess
    expect(findings).toEqual([]);
  });
});
