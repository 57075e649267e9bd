import { CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as eventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { env, evaluation as layout, queues, type QueueDefinition } from '#shared/resources';
import { stageImageContext } from '../../stage/image.ts';
import { EXECUTION_TIMEOUT, evaluationDefinition } from './evaluation-definition.ts';
import { SymbiontFunction } from './function.ts';
import { acknowledge, arnWildcardFinding } from './nag.ts';
import type { Storage } from './storage.ts';

export interface EvaluationProps {
  /** Table and data bucket the evaluation works on. */
  readonly storage: Storage;
  /** Absolute path of the validated config file. */
  readonly configFile: string;
  /** Stage name, which names the state machine (`symbiont-<stage>-evaluate`). */
  readonly stage: string;
  /** Queue settings. @default queues.evaluation of layers/shared/resources.ts */
  readonly queue?: QueueDefinition;
  /** Points evaluated at once by one execution. @default 40 (the inline Map limit) */
  readonly maxConcurrency?: number;
  /** How long one task of the tasks function may take. @default 5 minutes */
  readonly taskTimeout?: Duration;
}

/**
 * Continuous evaluation: the evaluation queue (with its DLQ), `start-evaluation` consuming it and
 * starting one execution per message, the evaluation state machine, and `evaluation-tasks`, the
 * function behind its Task states. Stages themselves run on ECS in the next issue; `RunStage` is a
 * Lambda task until then, which fails with a clear error in AWS (locally the runtime runs stages).
 */
export class Evaluation extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly queueKey: kms.Key;
  public readonly tasks: SymbiontFunction;
  public readonly starter: SymbiontFunction;
  public readonly stateMachine: sfn.StateMachine;
  public readonly stateMachineLogs: logs.LogGroup;
  /**
   * Symbiont's stage base image (stage/Dockerfile, entrypoint the stage wrapper): staged by
   * `cdk synth`, built and pushed to the CDK assets repository by `cdk deploy`. Repositories' CI
   * builds stage images `FROM` it (README "Stages in AWS").
   */
  public readonly stageBaseImage: ecrAssets.DockerImageAsset;

  constructor(scope: Construct, id: string, props: EvaluationProps) {
    super(scope, id);
    const settings = props.queue ?? queues.evaluation;
    if (settings.visibilityTimeoutSeconds < settings.consumerTimeoutSeconds) {
      throw new Error(
        `evaluation queue visibility timeout (${settings.visibilityTimeoutSeconds}s) must be at least the consumer timeout (${settings.consumerTimeoutSeconds}s)`,
      );
    }
    const { storage } = props;
    const taskTimeout = props.taskTimeout ?? Duration.minutes(5);

    this.queueKey = new kms.Key(this, 'QueueKey', { description: 'Symbiont evaluation queues', enableKeyRotation: true });
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.queueKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(settings.dlqRetentionDays),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This is the dead-letter queue of the evaluation queue; Symbiont redrives it with its own mover.',
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: this.queueKey,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(settings.visibilityTimeoutSeconds),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: settings.maxReceiveCount },
    });

    this.tasks = new SymbiontFunction(this, 'Tasks', {
      name: 'evaluation-tasks',
      configFile: props.configFile,
      timeout: taskTimeout,
      memorySize: 1024,
      environment: {
        [env.tableName]: storage.table.tableName,
        [env.dataBucket]: storage.dataBucket.bucketName,
        [env.evaluationQueueUrl]: this.queue.queueUrl,
      },
    });
    const tasksFn = this.tasks.function;
    storage.grantTable(tasksFn, 'GetItem', 'PutItem', 'UpdateItem', 'Query', 'BatchGetItem');
    tasksFn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadEvaluationOutputs',
        actions: ['s3:GetObject'],
        resources: [storage.dataBucket.arnForObjects(`${layout.outputPrefix}*`)],
      }),
    );
    tasksFn.addToRolePolicy(new iam.PolicyStatement({ sid: 'UseDataKey', actions: ['kms:Decrypt'], resources: [storage.dataKey.keyArn] }));
    // `finish` queues a request's next part.
    this.grantSend(tasksFn);
    acknowledge(
      this.tasks.role,
      'Evaluation outputs are keyed by evaluation ids minted at run time, so the grant ends in evaluations/*; the only action is GetObject.',
      arnWildcardFinding(storage.dataBucket, `/${layout.outputPrefix}*`),
    );

    this.stateMachineLogs = new logs.LogGroup(this, 'StateMachineLogs', { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: layout.stateMachineName(props.stage),
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(evaluationDefinition(this, { tasks: tasksFn, taskTimeout, maxConcurrency: props.maxConcurrency })),
      logs: { destination: this.stateMachineLogs, level: sfn.LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: true,
      timeout: EXECUTION_TIMEOUT,
    });
    const smRole = this.stateMachine.role;
    const smPolicy = smRole.node.tryFindChild('DefaultPolicy');
    acknowledge(
      smPolicy ?? smRole,
      'Step Functions invokes the tasks function by version or alias too (<arn>:*), which is how CDK grants lambda:InvokeFunction to a state machine.',
      `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(tasksFn.node.defaultChild as never)}.Arn>:*]`,
    );
    acknowledge(
      smPolicy ?? smRole,
      'X-Ray segments and CloudWatch Logs delivery accept no resource narrower than "*" (AWS documents these actions as resource-less).',
      'AwsSolutions-IAM5[Resource::*]',
    );

    this.stageBaseImage = new ecrAssets.DockerImageAsset(this, 'StageBaseImage', {
      directory: stageImageContext(),
      platform: ecrAssets.Platform.LINUX_AMD64,
      displayName: 'Symbiont stage base image',
    });
    // What repositories' CI builds FROM (README "Stages in AWS").
    new CfnOutput(this, 'StageBaseImageUri', { value: this.stageBaseImage.imageUri }).overrideLogicalId('StageBaseImageUri');

    this.starter = new SymbiontFunction(this, 'StartEvaluation', {
      name: 'start-evaluation',
      configFile: props.configFile,
      timeout: Duration.seconds(settings.consumerTimeoutSeconds),
      environment: {
        [env.tableName]: storage.table.tableName,
        [env.stateMachineArn]: this.stateMachine.stateMachineArn,
      },
    });
    const starterFn = this.starter.function;
    starterFn.addEventSource(new eventSources.SqsEventSource(this.queue, { batchSize: settings.batchSize, reportBatchItemFailures: true }));
    storage.grantTable(starterFn, 'GetItem', 'UpdateItem');
    this.stateMachine.grantStartExecution(starterFn);
  }

  /**
   * Lets the API record commits and evaluation requests and queue them: the table writes they
   * need, reading a request's evaluations through their links, and sending to the queue.
   */
  grantRequests(grantee: iam.IGrantable & { addEnvironment?: (key: string, value: string) => unknown }, storage: Storage): void {
    storage.grantTable(grantee, 'PutItem', 'UpdateItem', 'BatchGetItem');
    this.grantSend(grantee);
    grantee.addEnvironment?.(env.evaluationQueueUrl, this.queue.queueUrl);
  }

  /** SendMessage on the evaluation queue and the key uses it needs, each action named (no `kms:GenerateDataKey*`). */
  private grantSend(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({ grantee, actions: ['sqs:SendMessage'], resourceArns: [this.queue.queueArn] });
    iam.Grant.addToPrincipal({ grantee, actions: ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:Decrypt'], resourceArns: [this.queueKey.keyArn] });
  }
}
