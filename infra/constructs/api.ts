import { CfnOutput, Duration, Lazy, Stack, type CfnElement } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { env, evaluation, landing } from '#shared/resources';
import { join } from 'node:path';
import { projectRoot, SymbiontFunction } from './function.ts';
import { acknowledge, arnWildcardFinding } from './nag.ts';
import type { Storage } from './storage.ts';

/** Where published versions live in the data bucket (DESIGN.md "Storage"). */
const DATASET_PREFIX = 'datasets/';

/** The app roles of DESIGN.md; each gets an IAM role whose name the API maps back to it. */
export const appRoles = ['admin', 'scientist', 'uploader'] as const;
export type AppRoleName = (typeof appRoles)[number];

/** What infra needs to know of a route: the router's own list supplies these. */
export interface ApiRouteAccess {
  readonly method: string;
  /** Path template, `/uploads/{id}`. */
  readonly path: string;
  /** `public`, or the app roles that may call it. */
  readonly access: 'public' | readonly string[];
}

export interface ApiProps {
  readonly storage: Storage;
  readonly configFile: string;
  readonly stage: string;
  /** Every route the router serves. */
  readonly routes: readonly ApiRouteAccess[];
  /** Datasets the uploader role is bound to. @default none */
  readonly uploaderDatasets?: readonly string[];
  /** Steady requests per second across the API. @default 50 */
  readonly rateLimit?: number;
  /** Burst capacity. @default 100 */
  readonly burstLimit?: number;
}

/**
 * The HTTP API: every data route behind IAM (SigV4) authorization, the public routes of DESIGN.md
 * open, one function running the one router, an IAM role per app role, throttling and access logs.
 */
export class Api extends Construct {
  public readonly httpApi: apigwv2.HttpApi;
  public readonly handler: SymbiontFunction;
  public readonly accessLogs: logs.LogGroup;
  /** One IAM role per app role; callers assume it and sign with its credentials. */
  public readonly roles: Readonly<Record<AppRoleName, iam.Role>>;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const rateLimit = props.rateLimit ?? 50;
    const burstLimit = props.burstLimit ?? 100;
    if (burstLimit < rateLimit) throw new Error(`API burstLimit (${burstLimit}) must be at least rateLimit (${rateLimit})`);
    const seen = new Set<string>();
    for (const route of props.routes) {
      const key = `${route.method.toUpperCase()} ${route.path}`;
      if (seen.has(key)) throw new Error(`route ${key} is declared twice`);
      seen.add(key);
    }

    this.roles = Object.fromEntries(
      appRoles.map((role) => [
        role,
        new iam.Role(this, `${role[0]!.toUpperCase()}${role.slice(1)}Role`, {
          roleName: `symbiont-${props.stage}-${role}`,
          assumedBy: new iam.AccountRootPrincipal(),
          description: `Symbiont ${props.stage}: the ${role} role of the data API`,
          maxSessionDuration: Duration.hours(4),
        }),
      ]),
    ) as Record<AppRoleName, iam.Role>;
    const roleMap = {
      [`symbiont-${props.stage}-admin`]: 'admin',
      [`symbiont-${props.stage}-scientist`]: 'scientist',
      [`symbiont-${props.stage}-uploader`]: { role: 'uploader', name: 'uploader', datasets: [...(props.uploaderDatasets ?? [])] },
    };

    this.handler = new SymbiontFunction(this, 'Handler', {
      name: 'api',
      configFile: props.configFile,
      memorySize: 1024,
      timeout: Duration.seconds(29),
      environment: {
        [env.tableName]: props.storage.table.tableName,
        [env.landingBucket]: props.storage.landingBucket.bucketName,
        [env.dataBucket]: props.storage.dataBucket.bucketName,
        [env.roleMap]: JSON.stringify(roleMap),
      },
      // The web console's bundle (console/app.js, app.css) beside the handler, built by the same esbuild.
      afterBundling: (output) => [`"${join(projectRoot, 'node_modules', '.bin', 'tsx')}" "${join(projectRoot, 'layers', 'console', 'build.ts')}" "${output}/console"`],
    });
    props.storage.grantTable(this.handler.function, 'GetItem', 'Query');
    this.grantDataAccess(props.storage);

    const integration = new HttpLambdaIntegration('Router', this.handler.function);
    const iamAuthorizer = new HttpIamAuthorizer();
    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      apiName: `symbiont-${props.stage}`,
      description: `Symbiont (${props.stage}) data API`,
      createDefaultStage: false,
      // Anything not declared still reaches the router (after IAM), so callers get its 404/405 bodies.
      defaultIntegration: integration,
      defaultAuthorizer: iamAuthorizer,
    });
    for (const route of props.routes) {
      const isPublic = route.access === 'public';
      const [created] = this.httpApi.addRoutes({
        path: route.path,
        methods: [route.method.toUpperCase() as apigwv2.HttpMethod],
        integration,
        authorizer: isPublic ? new apigwv2.HttpNoneAuthorizer() : iamAuthorizer,
      });
      if (isPublic && created) {
        acknowledge(
          created,
          `${route.method.toUpperCase()} ${route.path} is public by design (DESIGN.md "The API"): health, the API description, the web console's shell and bundle (no data: the console signs its data calls with IAM), or a webhook verified by its own HMAC.`,
          'AwsSolutions-APIG4',
        );
      }
    }

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logs.RetentionDays.THREE_MONTHS });
    new apigwv2.HttpStage(this, 'Stage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit, burstLimit },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(this.accessLogs),
        format: apigw.AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTime',
            ip: '$context.identity.sourceIp',
            caller: '$context.identity.userArn',
            method: '$context.httpMethod',
            path: '$context.path',
            route: '$context.routeKey',
            status: '$context.status',
            bytes: '$context.responseLength',
            latencyMs: '$context.responseLatency',
            error: '$context.error.message',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });

    // Each role may invoke exactly the routes its app role may use (the router checks again).
    for (const role of appRoles) {
      const allowed = props.routes.filter((r) => r.access !== 'public' && r.access.includes(role));
      if (allowed.length === 0) continue;
      const paths = allowed.map((r) => ({ method: r.method.toUpperCase(), path: r.path.replace(/\{[^}]+\}/g, '*') }));
      this.roles[role].addToPolicy(
        new iam.PolicyStatement({
          actions: ['execute-api:Invoke'],
          resources: paths.map(({ method, path }) => this.httpApi.arnForExecuteApi(method, path, '$default')),
        }),
      );
      const apiId = Stack.of(this).getLogicalId(this.httpApi.node.defaultChild as CfnElement);
      acknowledge(
        this.roles[role],
        'A path parameter ({id}) becomes "*" in the route ARN: the role may call the route for any id, and the router checks what the caller may see.',
        ...paths
          .filter(({ path }) => path.includes('*'))
          .map(({ method, path }) => `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${apiId}>/$default/${method}${path}]`),
      );
    }
    new CfnOutput(this, 'Url', { value: this.httpApi.apiEndpoint, description: 'Data API endpoint' });
    for (const role of appRoles) new CfnOutput(this, `${role}RoleArn`, { value: this.roles[role].roleArn });
  }

  /**
   * What the presigned URLs the API hands out need of its role (a URL can do no more than its
   * signer): reading published versions (`datasets/*`) and stage logs and artifacts
   * (`evaluations/*`, listed under that prefix only), and the data key that encrypts them; writing
   * uploads through slots (`api/*` in landing), and recording the slots in the table.
   */
  private grantDataAccess(storage: Storage): void {
    const fn = this.handler.function;
    fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'PresignVersionDownloads', actions: ['s3:GetObject'], resources: [storage.dataBucket.arnForObjects(`${DATASET_PREFIX}*`)] }));
    fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'PresignStageLogs', actions: ['s3:GetObject'], resources: [storage.dataBucket.arnForObjects(`${evaluation.outputPrefix}*`)] }));
    // Listing a stage run's output folder (GET /evaluations/{id}/artifacts): the bucket, but only under evaluations/.
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ListStageArtifacts',
        actions: ['s3:ListBucket'],
        resources: [storage.dataBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${evaluation.outputPrefix}*`] } },
      }),
    );
    fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'DecryptVersionDownloads', actions: ['kms:Decrypt'], resources: [storage.dataKey.keyArn] }));
    fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'PresignSlotUploads', actions: ['s3:PutObject'], resources: [storage.landingBucket.arnForObjects(`${landing.apiPrefix}*`)] }));
    storage.grantTable(fn, 'PutItem');
    acknowledge(
      this.handler.role,
      'Versions, stage runs and upload slots are keyed by dataset names, version numbers, evaluation ids and slot ids made at run time: downloads end in datasets/*, stage logs in evaluations/*, slot uploads in api/*; each grant lists its one action.',
      arnWildcardFinding(storage.dataBucket, `/${DATASET_PREFIX}*`),
      arnWildcardFinding(storage.dataBucket, `/${evaluation.outputPrefix}*`),
      arnWildcardFinding(storage.landingBucket, `/${landing.apiPrefix}*`),
    );
  }

  /**
   * How the web console signs people in (`/console/config.json`): the Cognito user pool, its app
   * client, the identity pool and the managed login domain, set on the API function.
   */
  consoleSignIn(signIn: { readonly userPoolId: string; readonly clientId: string; readonly identityPoolId: string; readonly authDomain: string }): void {
    const fn = this.handler.function;
    fn.addEnvironment(env.consoleUserPoolId, signIn.userPoolId);
    fn.addEnvironment(env.consoleClientId, signIn.clientId);
    fn.addEnvironment(env.consoleIdentityPoolId, signIn.identityPoolId);
    fn.addEnvironment(env.consoleAuthDomain, signIn.authDomain);
  }

  /** Work queues whose DLQs admins manage through the API, by name (`DEAD_LETTER_QUEUES`). */
  private readonly deadLetterQueues: Record<string, { queueUrl: string; deadLetterQueueUrl: string }> = {};

  /**
   * Lets admins list, show and redrive a work queue's DLQ through the API (`symbiont dlq`): read
   * and delete on the DLQ, send on its queue, and the key both are encrypted with — nothing more.
   */
  manageDeadLetters(name: string, work: { readonly queue: sqs.IQueue; readonly deadLetterQueue: sqs.IQueue; readonly queueKey: kms.IKey }): void {
    if (Object.hasOwn(this.deadLetterQueues, name)) throw new Error(`the ${name} queue's dead letters are managed twice`);
    const fn = this.handler.function;
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sqs:GetQueueAttributes', 'sqs:ReceiveMessage', 'sqs:DeleteMessage'], resources: [work.deadLetterQueue.queueArn] }));
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [work.queue.queueArn] }));
    fn.addToRolePolicy(new iam.PolicyStatement({ actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'], resources: [work.queueKey.keyArn] }));
    if (Object.keys(this.deadLetterQueues).length === 0) {
      fn.addEnvironment(env.deadLetterQueues, Lazy.string({ produce: () => Stack.of(this).toJsonString(this.deadLetterQueues) }));
    }
    this.deadLetterQueues[name] = { queueUrl: work.queue.queueUrl, deadLetterQueueUrl: work.deadLetterQueue.queueUrl };
  }
}
