import { Aws, CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { AppRoleName } from './api.ts';
import { acknowledge } from './nag.ts';

/** Cognito groups and their precedence: a person in several groups gets the lowest number's role. */
export const identityGroups: readonly { readonly role: AppRoleName; readonly precedence: number }[] = [
  { role: 'admin', precedence: 0 },
  { role: 'scientist', precedence: 1 },
  { role: 'uploader', precedence: 2 },
];

export interface IdentityProps {
  /** The API's IAM role per app role (`Api.roles`); each group maps onto its role. */
  readonly roles: Readonly<Record<AppRoleName, iam.Role>>;
  readonly stage: string;
  /** Keep the user pool (its people and their MFA settings) when the stack is deleted. @default true */
  readonly retain?: boolean;
  /**
   * Cognito's Plus plan with full threat protection (compromised credentials, adaptive
   * authentication). It is billed per monthly active user, hence a knob. @default false
   */
  readonly threatProtection?: boolean;
  /**
   * The web console's URL (the API's `/`): Cognito's managed login sends people back there
   * (authorization code with PKCE). Without it the client keeps SRP sign-in only and there is no
   * login domain. @default none
   */
  readonly consoleUrl?: string;
}

/**
 * People in a browser (DESIGN.md "The API"): a user pool without self sign-up (admins create the
 * people), its groups admin / scientist / uploader mapped onto the API's IAM roles, and an identity
 * pool that trades a signed-in person's token for that role's temporary credentials, with which
 * the console signs its calls (SigV4) exactly as the CLI does. A person in no group gets no
 * credentials (ambiguous role resolution: deny).
 */
export class Identity extends Construct {
  public readonly userPool: cognito.UserPool;
  public readonly userPoolClient: cognito.UserPoolClient;
  public readonly identityPool: cognito.CfnIdentityPool;
  public readonly groups: Readonly<Record<AppRoleName, cognito.CfnUserPoolGroup>>;
  /** The managed login domain (`https://<prefix>.auth.<region>.amazoncognito.com`), when there is a console. */
  public readonly authDomain?: string;

  constructor(scope: Construct, id: string, props: IdentityProps) {
    super(scope, id);
    const threatProtection = props.threatProtection ?? false;

    this.userPool = new cognito.UserPool(this, 'UserPool', {
      userPoolName: `symbiont-${props.stage}`,
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      passwordPolicy: { minLength: 12, requireLowercase: true, requireUppercase: true, requireDigits: true, requireSymbols: true, tempPasswordValidity: Duration.days(3) },
      mfa: cognito.Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      featurePlan: threatProtection ? cognito.FeaturePlan.PLUS : cognito.FeaturePlan.ESSENTIALS,
      ...(threatProtection ? { standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION } : {}),
      deletionProtection: props.retain ?? true,
      removalPolicy: (props.retain ?? true) ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    acknowledge(
      this.userPool,
      'MFA is optional (TOTP) as the Data API issue asks: people turn it on themselves, and admins may require it per person; SMS is off.',
      'AwsSolutions-COG2',
    );
    if (!threatProtection) {
      acknowledge(
        this.userPool,
        'The Plus plan (threat protection) is billed per monthly active user; it is the identity construct\'s threatProtection knob, off by default.',
        'AwsSolutions-COG8',
      );
    }

    // A browser app: no client secret, SRP sign-in only, short-lived tokens.
    this.userPoolClient = this.userPool.addClient('Console', {
      userPoolClientName: `symbiont-${props.stage}-console`,
      generateSecret: false,
      authFlows: { userSrp: true },
      preventUserExistenceErrors: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(1),
      // The console signs in through the managed login (code + PKCE) and comes back to its own URL.
      ...(props.consoleUrl
        ? {
            oAuth: {
              flows: { authorizationCodeGrant: true },
              scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL],
              callbackUrls: [props.consoleUrl],
              logoutUrls: [props.consoleUrl],
            },
            supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
          }
        : {}),
    });
    if (props.consoleUrl) {
      // The prefix must be unique in the region and may not contain "aws", "amazon" or "cognito".
      const domain = this.userPool.addDomain('LoginDomain', { cognitoDomain: { domainPrefix: `symbiont-${props.stage}-${Aws.ACCOUNT_ID}` } });
      this.authDomain = domain.baseUrl();
      new CfnOutput(this, 'ConsoleLoginDomain', { value: this.authDomain, description: 'Cognito managed login of the web console' });
    }

    this.identityPool = new cognito.CfnIdentityPool(this, 'IdentityPool', {
      identityPoolName: `symbiont_${props.stage.replace(/[^\w]/g, '_')}`,
      allowUnauthenticatedIdentities: false,
      allowClassicFlow: false,
      cognitoIdentityProviders: [
        { clientId: this.userPoolClient.userPoolClientId, providerName: this.userPool.userPoolProviderName, serverSideTokenCheck: true },
      ],
    });

    // Each app role may be assumed by this identity pool's signed-in identities (and by nobody else's).
    const webIdentity = (role: iam.Role) =>
      role.assumeRolePolicy?.addStatements(
        new iam.PolicyStatement({
          principals: [new iam.FederatedPrincipal('cognito-identity.amazonaws.com')],
          actions: ['sts:AssumeRoleWithWebIdentity', 'sts:TagSession'],
          conditions: {
            StringEquals: { 'cognito-identity.amazonaws.com:aud': this.identityPool.ref },
            'ForAnyValue:StringLike': { 'cognito-identity.amazonaws.com:amr': 'authenticated' },
          },
        }),
      );
    for (const { role } of identityGroups) webIdentity(props.roles[role]);

    this.groups = Object.fromEntries(
      identityGroups.map(({ role, precedence }) => [
        role,
        new cognito.CfnUserPoolGroup(this, `${role[0]!.toUpperCase()}${role.slice(1)}Group`, {
          userPoolId: this.userPool.userPoolId,
          groupName: role,
          description: `Symbiont ${role}s: signed-in members get the ${role} role of the data API`,
          precedence,
          roleArn: props.roles[role].roleArn,
        }),
      ]),
    ) as Record<AppRoleName, cognito.CfnUserPoolGroup>;

    // The identity pool needs a default authenticated role; it grants nothing, and token-based
    // mapping with "Deny" never hands it out anyway.
    const signedInWithoutGroup = new iam.Role(this, 'NoGroupRole', {
      roleName: `symbiont-${props.stage}-no-group`,
      description: `Symbiont ${props.stage}: a signed-in person in no group (no permissions)`,
      assumedBy: new iam.FederatedPrincipal(
        'cognito-identity.amazonaws.com',
        {
          StringEquals: { 'cognito-identity.amazonaws.com:aud': this.identityPool.ref },
          'ForAnyValue:StringLike': { 'cognito-identity.amazonaws.com:amr': 'authenticated' },
        },
        'sts:AssumeRoleWithWebIdentity',
      ),
    });

    new cognito.CfnIdentityPoolRoleAttachment(this, 'RoleMapping', {
      identityPoolId: this.identityPool.ref,
      roles: { authenticated: signedInWithoutGroup.roleArn },
      roleMappings: {
        userPool: {
          // The token's cognito:preferred_role: the role of the person's group with the lowest precedence.
          type: 'Token',
          ambiguousRoleResolution: 'Deny',
          identityProvider: `${this.userPool.userPoolProviderName}:${this.userPoolClient.userPoolClientId}`,
        },
      },
    });

    new CfnOutput(this, 'UserPoolId', { value: this.userPool.userPoolId, description: 'Cognito user pool of the people who use Symbiont in a browser' });
    new CfnOutput(this, 'UserPoolClientId', { value: this.userPoolClient.userPoolClientId, description: 'App client id for the console (no secret, SRP sign-in)' });
    new CfnOutput(this, 'IdentityPoolId', { value: this.identityPool.ref, description: 'Identity pool trading a sign-in for the group\'s IAM role' });
  }
}
