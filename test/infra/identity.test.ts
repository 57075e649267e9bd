import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiRoutes } from '#api/api';
import { logicalId, synthesize, unacknowledgedFindings, type Synthesized } from './helpers.ts';

/**
 * The Data API in AWS: IAM on every data route, exactly the public routes of DESIGN.md open, and
 * Cognito for people in a browser — groups mapped onto the API's per-role IAM roles.
 */

let synthesized: Synthesized;
let template: Template;

beforeAll(() => {
  synthesized = synthesize();
  template = synthesized.template;
});

const routeKeys = (authorization: (type: string | undefined) => boolean) =>
  Object.values(template.findResources('AWS::ApiGatewayV2::Route'))
    .map((r) => r.Properties as { RouteKey: string; AuthorizationType?: string })
    .filter((r) => authorization(r.AuthorizationType))
    .map((r) => r.RouteKey)
    .sort();

describe('data API authorization', () => {
  it('puts IAM authorization on every route that is not public', () => {
    const dataRoutes = apiRoutes.filter((r) => r.access !== 'public').map((r) => `${r.method.toUpperCase()} ${r.path}`);
    const iam = routeKeys((type) => type === 'AWS_IAM');
    expect(dataRoutes).toContain('GET /datasets/{name}/versions/{version}/download');
    expect(dataRoutes).toContain('POST /datasets/{name}/uploads');
    for (const key of dataRoutes) expect(iam).toContain(key);
  });

  it('leaves open exactly the console (/ and /console/*), /health, /openapi.json, /docs and the GitHub webhook', () => {
    const open = routeKeys((type) => type === undefined || type === 'NONE');
    expect(open).toEqual(['GET /', 'GET /console/app.css', 'GET /console/app.js', 'GET /console/config.json', 'GET /docs', 'GET /health', 'GET /openapi.json', 'POST /webhooks/github']);
  });

  it('throttles the API and writes access logs', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: Match.anyValue(), ThrottlingBurstLimit: Match.anyValue() },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.anyValue() },
    });
  });

  it('lets the API function sign downloads of versions, stage logs and artifacts (listed under evaluations/ only) and uploads through slots, and nothing wider', () => {
    const role = logicalId(template, 'AWS::IAM::Role', 'ApiHandler');
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
      (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === role),
    );
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement as { Sid?: string; Action: unknown; Resource: unknown; Condition?: unknown }[]);
    const bySid = (sid: string) => statements.find((s) => s.Sid === sid);
    expect(bySid('PresignVersionDownloads')?.Action).toBe('s3:GetObject');
    expect(JSON.stringify(bySid('PresignVersionDownloads')?.Resource)).toContain('/datasets/*');
    expect(bySid('PresignStageLogs')?.Action).toBe('s3:GetObject');
    expect(JSON.stringify(bySid('PresignStageLogs')?.Resource)).toContain('/evaluations/*');
    expect(bySid('ListStageArtifacts')?.Action).toBe('s3:ListBucket');
    expect(bySid('ListStageArtifacts')?.Condition).toEqual({ StringLike: { 's3:prefix': ['evaluations/*'] } });
    expect(JSON.stringify(bySid('ListStageArtifacts')?.Resource)).not.toContain('/*');
    expect(bySid('PresignSlotUploads')?.Action).toBe('s3:PutObject');
    expect(JSON.stringify(bySid('PresignSlotUploads')?.Resource)).toContain('/api/*');
    expect(bySid('DecryptVersionDownloads')?.Action).toBe('kms:Decrypt');
  });
});

describe('Cognito identity', () => {
  it('creates a user pool without self sign-up, with a strong password policy and optional MFA', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'OPTIONAL',
      Policies: { PasswordPolicy: { MinimumLength: 12, RequireLowercase: true, RequireUppercase: true, RequireNumbers: true, RequireSymbols: true } },
    });
  });

  it('creates a browser client without a secret and an identity pool for signed-in people only', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', { GenerateSecret: false, ExplicitAuthFlows: Match.arrayWith(['ALLOW_USER_SRP_AUTH']) });
    template.hasResourceProperties('AWS::Cognito::IdentityPool', {
      AllowUnauthenticatedIdentities: false,
      CognitoIdentityProviders: [Match.objectLike({ ServerSideTokenCheck: true })],
    });
  });

  it('maps the groups admin, scientist and uploader onto the API roles, in that precedence', () => {
    const groups = Object.values(template.findResources('AWS::Cognito::UserPoolGroup')).map((g) => g.Properties);
    const expected = [
      ['admin', 0, 'ApiAdminRole'],
      ['scientist', 1, 'ApiScientistRole'],
      ['uploader', 2, 'ApiUploaderRole'],
    ] as const;
    expect(groups).toHaveLength(3);
    for (const [name, precedence, role] of expected) {
      const group = groups.find((g) => g.GroupName === name);
      expect(group?.Precedence).toBe(precedence);
      expect(group?.RoleArn).toEqual({ 'Fn::GetAtt': [logicalId(template, 'AWS::IAM::Role', role), 'Arn'] });
    }
  });

  it('lets each API role be assumed only by authenticated identities of this identity pool', () => {
    const pool = logicalId(template, 'AWS::Cognito::IdentityPool', 'IdentityPool');
    for (const role of ['ApiAdminRole', 'ApiScientistRole', 'ApiUploaderRole']) {
      const properties = template.findResources('AWS::IAM::Role')[logicalId(template, 'AWS::IAM::Role', role)]!.Properties;
      expect(properties.AssumeRolePolicyDocument.Statement).toContainEqual({
        Effect: 'Allow',
        Principal: { Federated: 'cognito-identity.amazonaws.com' },
        Action: ['sts:AssumeRoleWithWebIdentity', 'sts:TagSession'],
        Condition: {
          StringEquals: { 'cognito-identity.amazonaws.com:aud': { Ref: pool } },
          'ForAnyValue:StringLike': { 'cognito-identity.amazonaws.com:amr': 'authenticated' },
        },
      });
    }
  });

  it('resolves a person’s role from the token’s groups and denies a person in no group', () => {
    template.hasResourceProperties('AWS::Cognito::IdentityPoolRoleAttachment', {
      RoleMappings: { userPool: Match.objectLike({ Type: 'Token', AmbiguousRoleResolution: 'Deny' }) },
    });
  });

  it('outputs the user pool, its client and the identity pool', () => {
    const outputs = Object.keys(template.findOutputs('*'));
    for (const name of ['UserPoolId', 'UserPoolClientId', 'IdentityPoolId']) expect(outputs.some((o) => o.includes(name))).toBe(true);
  });

  it('leaves no cdk-nag finding unacknowledged in the identity construct', () => {
    expect(unacknowledgedFindings(synthesized.stack.identity)).toEqual([]);
  });
});
