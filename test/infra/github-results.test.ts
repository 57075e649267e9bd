import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { logicalId, synthesize, unacknowledgedFindings, type Synthesized } from './helpers.ts';

let synthesized: Synthesized;
let template: Template;

beforeAll(() => {
  synthesized = synthesize();
  template = synthesized.template;
});

describe('results on GitHub', () => {
  it('keeps the GitHub token in a secret that starts as "none" (posting off)', () => {
    // Assess
    template.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'symbiont/dev/github-token', SecretString: 'none' });
  });

  it('lets only the evaluation tasks function read the token, and tells it where it is and where the API is', () => {
    // Prepare
    const secret = logicalId(template, 'AWS::SecretsManager::Secret', 'GithubResultsGithubToken');
    const tasks = template.findResources('AWS::Lambda::Function')[logicalId(template, 'AWS::Lambda::Function', 'EvaluationTasks')]!;
    const tasksRole = (tasks.Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];

    // Act
    const readers = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      (p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]).some(
        (s) => [s.Action].flat().includes('secretsmanager:GetSecretValue') && JSON.stringify(s.Resource).includes(secret),
      ),
    );

    // Assess
    expect(readers).toHaveLength(1);
    expect((readers[0]!.Properties.Roles as { Ref: string }[]).map((r) => r.Ref)).toEqual([tasksRole]);
    expect(tasks.Properties.Environment.Variables.GITHUB_TOKEN_SECRET_ARN).toEqual({ Ref: secret });
    expect(tasks.Properties.Environment.Variables.SYMBIONT_PUBLIC_API_URL).toBeDefined();
  });

  it('has no cdk-nag finding left unacknowledged', () => {
    // Act
    const findings = unacknowledgedFindings(synthesized.stack).filter((f) => f.includes('/GithubResults/'));

    // Assess
    expect(findings).toEqual([]);
  });
});
