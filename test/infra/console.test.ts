import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiRoutes } from '#api/api';
import { env } from '#shared/resources';
import { logicalId, synthesize, unacknowledgedFindings, type Synthesized } from './helpers.ts';

/**
 * The web console in AWS: its shell and bundle are public routes and nothing else became public;
 * `/me` is behind IAM like every data route; Cognito's managed login sends people back to the
 * console, and the API function knows the ids the console signs in with.
 */

let synthesized: Synthesized;
let template: Template;

beforeAll(() => {
  synthesized = synthesize();
  template = synthesized.template;
});

const routes = () => Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties as { RouteKey: string; AuthorizationType?: string });
const isOpen = (type: string | undefined) => type === undefined || type === 'NONE';

describe('the web console in the stack', () => {
  it('serves the shell, the bundle and the sign-in settings without credentials', () => {
    const open = routes()
      .filter((r) => isOpen(r.AuthorizationType))
      .map((r) => r.RouteKey);
    for (const key of ['GET /', 'GET /console/app.js', 'GET /console/app.css', 'GET /console/config.json']) expect(open).toContain(key);
  });

  it('makes public nothing but the console, the API description, health and the webhook', () => {
    const open = routes()
      .filter((r) => isOpen(r.AuthorizationType))
      .map((r) => r.RouteKey)
      .sort();
    expect(open).toEqual(['GET /', 'GET /console/app.css', 'GET /console/app.js', 'GET /console/config.json', 'GET /docs', 'GET /health', 'GET /openapi.json', 'POST /webhooks/github']);
    // And the router agrees: the same routes, and no other, are declared public.
    const declared = apiRoutes
      .filter((r) => r.access === 'public')
      .map((r) => `${r.method.toUpperCase()} ${r.path}`)
      .sort();
    expect(declared).toEqual(open);
  });

  it('puts GET /me behind IAM and lets every app role call it', () => {
    expect(routes().find((r) => r.RouteKey === 'GET /me')?.AuthorizationType).toBe('AWS_IAM');
    for (const role of ['ApiAdminRole', 'ApiScientistRole', 'ApiUploaderRole']) {
      const id = logicalId(template, 'AWS::IAM::Role', role);
      const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === id));
      expect(JSON.stringify(policies)).toContain('/$default/GET/me"');
    }
  });

  it('gives the API function the user pool, app client, identity pool and login domain the console signs in with', () => {
    const fn = Object.values(template.findResources('AWS::Lambda::Function')).find((f) =>
      Object.hasOwn((f.Properties.Environment?.Variables ?? {}) as object, env.roleMap),
    );
    const variables = fn?.Properties.Environment.Variables as Record<string, unknown>;
    expect(variables[env.consoleUserPoolId]).toEqual({ Ref: logicalId(template, 'AWS::Cognito::UserPool', 'UserPool') });
    expect(variables[env.consoleClientId]).toEqual({ Ref: logicalId(template, 'AWS::Cognito::UserPoolClient', 'Console') });
    expect(variables[env.consoleIdentityPoolId]).toEqual({ Ref: logicalId(template, 'AWS::Cognito::IdentityPool', 'IdentityPool') });
    expect(JSON.stringify(variables[env.consoleAuthDomain])).toContain('.auth.');
    expect(JSON.stringify(variables[env.consoleAuthDomain])).toContain(logicalId(template, 'AWS::Cognito::UserPoolDomain', 'LoginDomain'));
  });

  it('signs people in through the managed login, with the authorization code flow, back to the console at the API’s /', () => {
    const api = logicalId(template, 'AWS::ApiGatewayV2::Api', 'HttpApi');
    const consoleUrl = { 'Fn::Join': ['', [{ 'Fn::GetAtt': [api, 'ApiEndpoint'] }, '/']] };
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      // No implicit grant: tokens never travel in a URL.
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: ['openid', 'email'],
      SupportedIdentityProviders: ['COGNITO'],
      CallbackURLs: [consoleUrl],
      LogoutURLs: [consoleUrl],
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', { UserPoolId: { Ref: logicalId(template, 'AWS::Cognito::UserPool', 'UserPool') } });
  });

  it('leaves no cdk-nag finding unacknowledged in the API and identity constructs', () => {
    expect(unacknowledgedFindings(synthesized.stack.api)).toEqual([]);
    expect(unacknowledgedFindings(synthesized.stack.identity)).toEqual([]);
  });
});
