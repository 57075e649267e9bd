import { CfnOutput, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as eventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { env, queues, type QueueDefinition } from '#shared/resources';
import type { Evaluation } from './evaluation.ts';
import { SymbiontFunction } from './function.ts';
import { acknowledge } from './nag.ts';
import type { Storage } from './storage.ts';
import { createWorkQueue } from './work-queue.ts';

export interface CommitIntakeProps {
  /** The table commits, heads, deliveries and requests are recorded in. */
  readonly storage: Storage;
  /** Where planned evaluation requests are queued. */
  readonly evaluation: Evaluation;
  /** Absolute path of the validated config file. */
  readonly configFile: string;
  /** Stage name, which names the webhook secret (`symbiont/<stage>/github-webhook-secret`). */
  readonly stage: string;
  /** Queue settings. @default queues.commit of layers/shared/resources.ts */
  readonly queue?: QueueDefinition;
}

/**
 * Commit intake (DESIGN.md "Flows"): the commit queue (with its DLQ) that GitHub pushes (through
 * the API's webhook route), `POST /commits` and newly published dataset versions go to, and
 * `plan-evaluations` consuming it — each commit or version becomes evaluation requests on the
 * evaluation queue. The GitHub webhook's shared secret lives in Secrets Manager: the stack creates
 * it with a generated value, which is what goes into GitHub's webhook settings.
 */
export class CommitIntake extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly queueKey: kms.Key;
  public readonly planner: SymbiontFunction;
  /** The GitHub webhook secret (the value GitHub signs deliveries with). */
  public readonly webhookSecret: secretsmanager.Secret;
  private readonly storage: Storage;

  constructor(scope: Construct, id: string, props: CommitIntakeProps) {
    super(scope, id);
    const settings = props.queue ?? queues.commit;
    const { storage } = props;
    this.storage = storage;

    const work = createWorkQueue(this, 'commit', settings);
    this.queue = work.queue;
    this.deadLetterQueue = work.deadLetterQueue;
    this.queueKey = work.key;

    this.planner = new SymbiontFunction(this, 'PlanEvaluations', {
      name: 'plan-evaluations',
      configFile: props.configFile,
      timeout: Duration.seconds(settings.consumerTimeoutSeconds),
      environment: { [env.tableName]: storage.table.tableName },
    });
    const planner = this.planner.function;
    planner.addEventSource(new eventSources.SqsEventSource(this.queue, { batchSize: settings.batchSize, reportBatchItemFailures: true }));
    // Records commits and heads, reads heads, versions and baselines, records requests and queues them.
    storage.grantTable(planner, 'GetItem', 'Query');
    props.evaluation.grantRequests(planner, storage);

    this.webhookSecret = new secretsmanager.Secret(this, 'GithubWebhookSecret', {
      secretName: `symbiont/${props.stage}/github-webhook-secret`,
      description: `Symbiont (${props.stage}): the secret GitHub signs webhook deliveries with (X-Hub-Signature-256)`,
      generateSecretString: { passwordLength: 40, excludePunctuation: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledge(
      this.webhookSecret,
      'A webhook secret is shared with GitHub, which cannot be told a new one by a rotation Lambda; it is changed by hand in both places (README "Commit intake").',
      'AwsSolutions-SMG4',
    );
    new CfnOutput(this, 'GithubWebhookSecretName', {
      value: this.webhookSecret.secretName,
      description: 'Secrets Manager secret holding the GitHub webhook secret (put its value in the webhook settings)',
    }).overrideLogicalId('GithubWebhookSecretName');
  }

  /** What the webhook route needs: read the secret, claim deliveries, queue commit events. */
  grantWebhook(fn: lambda.Function): void {
    this.webhookSecret.grantRead(fn);
    fn.addEnvironment(env.githubWebhookSecretArn, this.webhookSecret.secretArn);
    this.storage.grantTable(fn, 'GetItem', 'PutItem', 'UpdateItem');
    this.grantSend(fn);
  }

  /** SendMessage on the commit queue (and its key), with the queue URL in the function's environment. */
  grantSend(fn: lambda.Function): void {
    iam.Grant.addToPrincipal({ grantee: fn, actions: ['sqs:SendMessage'], resourceArns: [this.queue.queueArn] });
    iam.Grant.addToPrincipal({ grantee: fn, actions: ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:Decrypt'], resourceArns: [this.queueKey.keyArn] });
    fn.addEnvironment(env.commitQueueUrl, this.queue.queueUrl);
  }
}
