import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
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
import { createWorkQueue } from './work-queue.ts';

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
  /**
   * Where stage tasks run (the stack knob `evaluationNetwork`): `public` — public subnets, tasks
   * with public IPs, no NAT gateway (nothing idles at a cost); `endpoints` — isolated private
   * subnets reaching S3, ECR and CloudWatch Logs through VPC endpoints only (no internet at all;
   * the interface endpoints cost about $7 a month each per AZ while they exist). @default 'public'
   */
  readonly network?: EvaluationNetwork;
}

/** Where stage tasks run: see {@link EvaluationProps.network}. */
export type EvaluationNetwork = 'public' | 'endpoints';

/** Prefixes of the data bucket a stage task reads: dataset versions and earlier stages' outputs. */
const STAGE_INPUT_PREFIX = 'datasets/';

/**
 * Continuous evaluation: the evaluation queue (with its DLQ), `start-evaluation` consuming it and
 * starting one execution per message, the evaluation state machine, and `evaluation-tasks`, the
 * function behind its Task states. Stages run as ECS Fargate tasks of the stage image (built FROM
 * the stage base image, whose entrypoint is the stage wrapper) on the stage cluster, in the network
 * of {@link EvaluationProps.network}; locally the runtime's worktree runner overrides `RunStage`.
 */
export class Evaluation extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly queueKey: kms.Key;
  public readonly tasks: SymbiontFunction;
  public readonly starter: SymbiontFunction;
  public readonly stateMachine: sfn.StateMachine;
  private readonly stage: string;
  public readonly stateMachineLogs: logs.LogGroup;
  /**
   * Symbiont's stage base image (stage/Dockerfile, entrypoint the stage wrapper): staged by
   * `cdk synth`, built and pushed to the CDK assets repository by `cdk deploy`. Repositories' CI
   * builds stage images `FROM` it (README "Stages in AWS").
   */
  public readonly stageBaseImage: ecrAssets.DockerImageAsset;
  /** The network stage tasks run in ({@link EvaluationProps.network}). */
  public readonly vpc: ec2.Vpc;
  /** The Fargate cluster stage tasks run on. */
  public readonly cluster: ecs.Cluster;
  /** Stage tasks' security group: no ingress; egress for S3, ECR and CloudWatch Logs. */
  public readonly stageSecurityGroup: ec2.SecurityGroup;
  /** The role stage containers run as: read their input, write under `evaluations/`. */
  public readonly stageTaskRole: iam.Role;
  /** The role ECS pulls stage images and writes their logs with. */
  public readonly stageExecutionRole: iam.Role;
  /** Stage containers' stdout and stderr (the wrapper echoes the command's). */
  public readonly stageLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: EvaluationProps) {
    super(scope, id);
    this.stage = props.stage;
    const settings = props.queue ?? queues.evaluation;
    const { storage } = props;
    const taskTimeout = props.taskTimeout ?? Duration.minutes(5);

    const work = createWorkQueue(this, 'evaluation', settings);
    this.queue = work.queue;
    this.deadLetterQueue = work.deadLetterQueue;
    this.queueKey = work.key;

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

    const runtime = this.createStageRuntime(props);
    this.vpc = runtime.vpc;
    this.cluster = runtime.cluster;
    this.stageSecurityGroup = runtime.securityGroup;
    this.stageTaskRole = runtime.taskRole;
    this.stageExecutionRole = runtime.executionRole;
    this.stageLogs = runtime.stageLogs;
    const network = props.network ?? 'public';
    const stageFamilyPrefix = `symbiont-${props.stage}-stage`;
    this.stateMachineLogs = new logs.LogGroup(this, 'StateMachineLogs', { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: layout.stateMachineName(props.stage),
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(evaluationDefinition(this, {
        tasks: tasksFn,
        taskTimeout,
        maxConcurrency: props.maxConcurrency,
        ecs: {
          clusterArn: this.cluster.clusterArn,
          subnetIds: this.vpc.selectSubnets({ subnetType: network === 'endpoints' ? ec2.SubnetType.PRIVATE_ISOLATED : ec2.SubnetType.PUBLIC }).subnetIds,
          securityGroupId: this.stageSecurityGroup.securityGroupId,
          assignPublicIp: network === 'public',
          taskRoleArn: this.stageTaskRole.roleArn,
          executionRoleArn: this.stageExecutionRole.roleArn,
          logGroupName: this.stageLogs.logGroupName,
          region: Stack.of(this).region,
          familyPrefix: stageFamilyPrefix,
          registryDomain: `dkr.ecr.${Stack.of(this).region}.${Stack.of(this).urlSuffix}`,
        },
      })),
      logs: { destination: this.stateMachineLogs, level: sfn.LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: true,
      timeout: EXECUTION_TIMEOUT,
    });
    this.grantStageTasks(stageFamilyPrefix);
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
   * Where stage tasks run: the network ({@link EvaluationProps.network}), the Fargate cluster, the
   * roles and the log group their task definitions (registered per image digest) use.
   */
  private createStageRuntime(props: EvaluationProps) {
    const { storage } = props;
    const network = props.network ?? 'public';
    if (network !== 'public' && network !== 'endpoints') throw new Error(`evaluationNetwork must be public or endpoints, not ${JSON.stringify(network)}`);
    const vpc = new ec2.Vpc(this, 'StageNetwork', {
      maxAzs: 2,
      // Never a NAT gateway: public subnets with public IPs, or isolated subnets with endpoints.
      natGateways: 0,
      subnetConfiguration: [
        { name: 'stages', subnetType: network === 'endpoints' ? ec2.SubnetType.PRIVATE_ISOLATED : ec2.SubnetType.PUBLIC, cidrMask: 20 },
      ],
      // S3 traffic stays on the gateway endpoint (free), whatever the subnets.
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
    });
    const flowLogs = new logs.LogGroup(this, 'StageNetworkFlowLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    vpc.addFlowLog('FlowLog', { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs), trafficType: ec2.FlowLogTrafficType.REJECT });
    const securityGroup = new ec2.SecurityGroup(this, 'StageSecurityGroup', {
      vpc: vpc,
      description: 'Symbiont stage tasks: no ingress; egress to S3, ECR and CloudWatch Logs',
      allowAllOutbound: true,
    });
    if (network === 'endpoints') {
      // What a Fargate task needs without internet: pull its image from ECR and write its logs.
      // The endpoints answer the stage tasks' security group only.
      for (const [id, service] of [
        ['EcrApi', ec2.InterfaceVpcEndpointAwsService.ECR],
        ['EcrDocker', ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER],
        ['Logs', ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS],
      ] as const) {
        const endpoint = vpc.addInterfaceEndpoint(`${id}Endpoint`, { service, privateDnsEnabled: true, open: false });
        endpoint.connections.allowDefaultPortFrom(securityGroup, 'stage tasks');
      }
    }
    const cluster = new ecs.Cluster(this, 'StageCluster', { vpc: vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    const stageLogs = new logs.LogGroup(this, 'StageLogs', { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy: RemovalPolicy.DESTROY });

    const taskRole = new iam.Role(this, 'StageTaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'Symbiont stage containers: read dataset versions and earlier stages, write evaluation outputs',
    });
    taskRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadStageInput',
        actions: ['s3:GetObject'],
        resources: [storage.dataBucket.arnForObjects(`${STAGE_INPUT_PREFIX}*`), storage.dataBucket.arnForObjects(`${layout.outputPrefix}*`)],
      }),
    );
    taskRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ListPreviousStageOutput',
        actions: ['s3:ListBucket'],
        resources: [storage.dataBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${layout.outputPrefix}*`] } },
      }),
    );
    taskRole.addToPolicy(
      new iam.PolicyStatement({ sid: 'WriteStageOutput', actions: ['s3:PutObject'], resources: [storage.dataBucket.arnForObjects(`${layout.outputPrefix}*`)] }),
    );
    taskRole.addToPolicy(
      new iam.PolicyStatement({ sid: 'UseDataKey', actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'], resources: [storage.dataKey.keyArn] }),
    );
    acknowledge(
      taskRole.node.findChild('DefaultPolicy'),
      'Stage inputs and outputs are keyed by dataset versions and evaluation ids made at run time: reads end in datasets/* and evaluations/*, writes (PutObject only) in evaluations/*.',
      arnWildcardFinding(storage.dataBucket, `/${STAGE_INPUT_PREFIX}*`),
      arnWildcardFinding(storage.dataBucket, `/${layout.outputPrefix}*`),
    );

    const executionRole = new iam.Role(this, 'StageExecutionRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'ECS pulling Symbiont stage images and writing their logs',
    });
    executionRole.addToPolicy(new iam.PolicyStatement({ sid: 'EcrLogin', actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }));
    executionRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'PullStageImages',
        actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
        resources: [Stack.of(this).formatArn({ service: 'ecr', resource: 'repository', resourceName: '*' })],
      }),
    );
    executionRole.addToPolicy(
      new iam.PolicyStatement({ sid: 'WriteStageLogs', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`${stageLogs.logGroupArn}:*`] }),
    );
    const executionPolicy = executionRole.node.findChild('DefaultPolicy');
    acknowledge(executionPolicy, 'ecr:GetAuthorizationToken accepts no resource narrower than "*" (AWS documents it as resource-less).', 'AwsSolutions-IAM5[Resource::*]');
    acknowledge(
      executionPolicy,
      'Stage images live in the repositories of the teams whose CI pushes them (any repository of this account); the actions only read images.',
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/*]`,
    );
    acknowledge(executionPolicy, 'Log streams are named per task at run time; the grant is on this log group only.', arnWildcardFinding(stageLogs, ':*'));
      return { vpc, cluster, securityGroup, taskRole, executionRole, stageLogs };
  }

  /**
   * What the state machine needs to run stages on ECS: find and register their task definitions
   * (families `<prefix>-*`), pass the stage roles, run, watch and stop the tasks on the cluster,
   * and the EventBridge rule Step Functions manages for RunTask .sync.
   */
  private grantStageTasks(familyPrefix: string): void {
    const stack = Stack.of(this);
    const policy = (sid: string, actions: string[], resources: string[]) => this.stateMachine.addToRolePolicy(new iam.PolicyStatement({ sid, actions, resources }));
    // RegisterTaskDefinition and DescribeTaskDefinition accept no resource but "*".
    policy('FindAndRegisterStageTasks', ['ecs:DescribeTaskDefinition', 'ecs:RegisterTaskDefinition'], ['*']);
    // Stage images live in this account's ECR; DescribeImages resolves a commit's tag to its digest.
    policy('ResolveStageImages', ['ecr:DescribeImages'], [stack.formatArn({ service: 'ecr', resource: 'repository', resourceName: '*' })]);
    policy('PassStageRoles', ['iam:PassRole'], [this.stageTaskRole.roleArn, this.stageExecutionRole.roleArn]);
    policy('RunStageTasks', ['ecs:RunTask'], [stack.formatArn({ service: 'ecs', resource: 'task-definition', resourceName: `${familyPrefix}-*` })]);
    policy('WatchStageTasks', ['ecs:DescribeTasks', 'ecs:StopTask'], [stack.formatArn({ service: 'ecs', resource: 'task', resourceName: `${this.cluster.clusterName}/*` })]);
    acknowledge(
      this.stateMachine.role.node.tryFindChild('DefaultPolicy') ?? this.stateMachine.role,
      'Stage task definitions are registered per stage image digest at run time, as the families symbiont-<stage>-stage-<hash of the digest-pinned image>, and their tasks are named by ECS: RunTask is granted on those families only, DescribeTasks and StopTask on this cluster\'s tasks only. Stage images are pushed by each repository\'s CI to repositories the stack does not know, so DescribeImages (read-only) is granted on this account\'s repositories.',
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task-definition/${familyPrefix}-*]`,
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task/<${stack.getLogicalId(this.cluster.node.defaultChild as never)}>/*]`,
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecr:<AWS::Region>:<AWS::AccountId>:repository/*]',
    );
    policy('ManageSyncRule', ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'], [stack.formatArn({ service: 'events', resource: 'rule', resourceName: 'StepFunctionsGetEventsForECSTaskRule' })]);
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

  /**
   * Lets the API cancel requests: StopExecution on this state machine's executions only (their
   * names are made per request at run time), with the state machine's ARN in its environment.
   */
  grantCancel(fn: lambda.Function): void {
    const stack = Stack.of(this);
    const executions = stack.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${layout.stateMachineName(this.stage)}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'StopEvaluationExecutions', actions: ['states:StopExecution'], resources: [executions] }));
    fn.addEnvironment(env.stateMachineArn, this.stateMachine.stateMachineArn);
    acknowledge(
      fn.role!.node.tryFindChild('DefaultPolicy') ?? fn.role!,
      'Executions are named per evaluation request at run time; StopExecution is granted on the executions of the one evaluation state machine only.',
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${layout.stateMachineName(this.stage)}:*]`,
    );
  }

  /** SendMessage on the evaluation queue and the key uses it needs, each action named (no `kms:GenerateDataKey*`). */
  private grantSend(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({ grantee, actions: ['sqs:SendMessage'], resourceArns: [this.queue.queueArn] });
    iam.Grant.addToPrincipal({ grantee, actions: ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:Decrypt'], resourceArns: [this.queueKey.keyArn] });
  }
}
