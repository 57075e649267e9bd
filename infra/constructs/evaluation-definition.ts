import { App, Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { evaluation as limits } from '#shared/resources';
import { otherStates, retryableErrors, taskStates, type TaskStateName } from '#evaluation/states';

/**
 * The evaluation state machine (DESIGN.md "Flows"), in JSONPath only: what aws-local-stepfunctions
 * runs is exactly what Step Functions runs.
 *
 * ```
 * Prepare ─> EvaluatePhases (Map, one phase at a time: the baselines the request evaluates, then its points)
 *              └ EvaluatePoints (Map, ≤ 40 at once)
 *                  └ StartPoint ─> RunStages (Map, in order) { RunStage } ─> RecordScores ─> Compare
 *                      (any of them failing ─> RecordFailure: a `failed` evaluation with its stderr tail)
 *         ─> Tally ─> Regressed? ─(yes)─> Diagnose ─> Finish
 *                               │            └(failed when retried)─> DiagnosticFailed ─> Finish
 *                               └─(no)──────────────────────────────────────────────> Finish
 * ```
 * Map iterations write to the table and return nothing (`ResultPath: null`), so the execution's
 * state holds ids only. Every task is retried on transient errors; a failure of Prepare, the Map
 * or Tally goes to Finish, which records it and fails the execution. Diagnose (the regressions'
 * diagnostic reports) never does: its failure is recorded on the evaluations by DiagnosticFailed
 * and the part finishes as it would have.
 */

/**
 * How long one execution may run: a part of 500 points with slow stages takes long, and Standard
 * executions may run a year. Part of the definition (`TimeoutSeconds`), so local runs have it too.
 */
export const EXECUTION_TIMEOUT = Duration.days(7);

export interface EvaluationDefinitionProps {
  /** The `evaluation-tasks` function. */
  readonly tasks: lambda.IFunction;
  /** How long a task of the tasks function may take (its timeout). @default 5 minutes */
  readonly taskTimeout?: Duration;
  /** Points evaluated at once. @default 40 (the inline Map limit) */
  readonly maxConcurrency?: number;
  /**
   * Where stages run in AWS: given, `RunStage` is ECS RunTask `.sync` on Fargate, after
   * `FindStageTask` / `RegisterStageTask` found or registered the task definition of the stage's
   * image. Absent (the local definition), `RunStage` keeps its payload `{run}`, which the local
   * runtime's override runs; the state names are the same either way.
   */
  readonly ecs?: EcsStageTarget;
}

/** What the ECS stage states need, as literal values or tokens. */
export interface EcsStageTarget {
  readonly clusterArn: string;
  readonly subnetIds: readonly string[];
  readonly securityGroupId: string;
  /** Public subnets need it to reach S3's public endpoints, ECR and CloudWatch Logs without NAT. */
  readonly assignPublicIp: boolean;
  readonly taskRoleArn: string;
  readonly executionRoleArn: string;
  readonly logGroupName: string;
  readonly region: string;
  /** Task definitions are the families `<familyPrefix>-<sha256 of the digest-pinned image>`. */
  readonly familyPrefix: string;
  /** The ECR registry's domain after the account: `dkr.ecr.<region>.amazonaws.com`. */
  readonly registryDomain: string;
  /** @default '1024' (1 vCPU) */
  readonly cpu?: string;
  /** @default '4096' (MiB) */
  readonly memory?: string;
}

/** The container of every stage task definition. */
export const STAGE_CONTAINER = 'stage';

/**
 * The ECS-only states of a stage: resolve its image's digest, find or register the task definition
 * of that digest, and check the container's exit code.
 */
export const ecsStageStates = {
  resolve: 'ResolveStageImage',
  missing: 'StageImageMissing',
  find: 'FindStageTask',
  register: 'RegisterStageTask',
  exited: 'StageExited?',
  failed: 'StageFailed',
} as const;

/**
 * Errors the ECS stage states retry: ECS's capacity, server and throttling errors, as the optimized
 * RunTask integration (`ECS.…`) and the SDK integrations (`Ecs.…`) name them.
 */
export const ecsRetryableErrors = ['ECS.AmazonECSException', 'ECS.ServerException', 'ECS.ThrottlingException', 'Ecs.ServerException', 'Ecs.ThrottlingException'] as const;

/** Errors `ResolveStageImage` retries: ECR's server and throttling errors. */
export const ecrRetryableErrors = ['Ecr.ServerException', 'Ecr.ThrottlingException', 'Ecr.TooManyRequestsException'] as const;

/**
 * RunStage as ECS RunTask .sync. First the image `<repository>:<sha>` is resolved to its digest
 * (ECR DescribeImages), so the stage runs exactly the bytes that tag named when it started, and
 * the task definition is found or registered per digest-pinned image: a tag pushed again gets a
 * new task definition, the same digest reuses its own. The run carries the digest into the task
 * (`SYMBIONT_RUN`), whose wrapper writes it to `result.json`, from which the evaluation records it.
 */
function ecsStage(scope: Construct, target: EcsStageTarget): sfn.IChainable {
  const resolve = new sfn.CustomState(scope, ecsStageStates.resolve, {
    stateJson: {
      Type: 'Task',
      Resource: 'arn:aws:states:::aws-sdk:ecr:describeImages',
      Parameters: { 'RepositoryName.$': '$.ecrRepository', ImageIds: [{ 'ImageTag.$': '$.imageTag' }] },
      ResultSelector: {
        'digest.$': '$.ImageDetails[0].ImageDigest',
        'reference.$': `States.Format('{}.${target.registryDomain}/{}@{}', $.ImageDetails[0].RegistryId, $.ImageDetails[0].RepositoryName, $.ImageDetails[0].ImageDigest)`,
      },
      ResultPath: '$.stageImage',
    },
  });
  resolve.addRetry({ errors: [...ecrRetryableErrors], interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 4 });
  // CI has not pushed the image of this commit (or pushed it elsewhere): the point fails, saying so.
  const missing = new sfn.Fail(scope, ecsStageStates.missing, {
    stateName: ecsStageStates.missing,
    error: 'StageImageMissingError',
    causePath:
      "States.Format('ECR has no image {}:{} for stage {}: the repository’s CI builds it FROM the stage base image, tags it with the commit sha and pushes it before reporting the commit', $.ecrRepository, $.imageTag, $.stageName)",
  });
  resolve.addCatch(missing, { errors: ['Ecr.ImageNotFoundException', 'Ecr.RepositoryNotFoundException'], resultPath: '$.error' });
  const family = `States.Format('${target.familyPrefix}-{}', States.Hash($.stageImage.reference, 'SHA-256'))`;
  const find = new sfn.CustomState(scope, ecsStageStates.find, {
    stateJson: {
      Type: 'Task',
      Resource: 'arn:aws:states:::aws-sdk:ecs:describeTaskDefinition',
      Parameters: { 'TaskDefinition.$': family },
      ResultSelector: { 'arn.$': '$.TaskDefinition.TaskDefinitionArn' },
      ResultPath: '$.stageTask',
    },
  });
  const register = new sfn.CustomState(scope, ecsStageStates.register, {
    stateJson: {
      Type: 'Task',
      Resource: 'arn:aws:states:::aws-sdk:ecs:registerTaskDefinition',
      Parameters: {
        'Family.$': family,
        RequiresCompatibilities: ['FARGATE'],
        NetworkMode: 'awsvpc',
        Cpu: target.cpu ?? '1024',
        Memory: target.memory ?? '4096',
        RuntimePlatform: { CpuArchitecture: 'X86_64', OperatingSystemFamily: 'LINUX' },
        TaskRoleArn: target.taskRoleArn,
        ExecutionRoleArn: target.executionRoleArn,
        ContainerDefinitions: [
          {
            Name: STAGE_CONTAINER,
            'Image.$': '$.stageImage.reference',
            Essential: true,
            LogConfiguration: {
              LogDriver: 'awslogs',
              Options: { 'awslogs-group': target.logGroupName, 'awslogs-region': target.region, 'awslogs-stream-prefix': 'stage' },
            },
          },
        ],
      },
      ResultSelector: { 'arn.$': '$.TaskDefinition.TaskDefinitionArn' },
      ResultPath: '$.stageTask',
    },
  });
  find.addRetry({ errors: [...ecsRetryableErrors], interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 4 });
  register.addRetry({ errors: [...ecsRetryableErrors], interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 4 });
  // Not registered yet (DescribeTaskDefinition answers a ClientException): register it.
  find.addCatch(register, { errors: ['Ecs.ClientException', 'ECS.ClientException'], resultPath: sfn.JsonPath.DISCARD });
  const runTask = new sfn.CustomState(scope, 'RunStage', {
    stateJson: {
      Type: 'Task',
      Resource: 'arn:aws:states:::ecs:runTask.sync',
      Parameters: {
        Cluster: target.clusterArn,
        'TaskDefinition.$': '$.stageTask.arn',
        LaunchType: 'FARGATE',
        // ECS lists a point's tasks by it (`aws ecs list-tasks --started-by <evaluation id>`).
        'StartedBy.$': '$.evaluationId',
        NetworkConfiguration: {
          AwsvpcConfiguration: { Subnets: [...target.subnetIds], SecurityGroups: [target.securityGroupId], AssignPublicIp: target.assignPublicIp ? 'ENABLED' : 'DISABLED' },
        },
        // The stage contract, as the wrapper reads it: the whole run (extra fields are ignored).
        Overrides: { ContainerOverrides: [{ Name: STAGE_CONTAINER, Environment: [{ Name: 'SYMBIONT_RUN', 'Value.$': 'States.JsonToString($)' }] }] },
      },
      TimeoutSecondsPath: '$.taskTimeoutSeconds',
      ResultSelector: { 'exitCode.$': `$.Containers[0].ExitCode` },
      ResultPath: '$.stageExit',
    },
  });
  runTask.addRetry({ errors: [...ecsRetryableErrors], interval: Duration.seconds(5), backoffRate: 2, maxAttempts: 3 });
  // RunTask .sync succeeds whatever the container's exit code: a non-zero one fails the stage here.
  const failed = new sfn.Fail(scope, ecsStageStates.failed, {
    stateName: ecsStageStates.failed,
    error: 'StageFailedError',
    causePath: "States.Format('stage {} exited with code {}; its stderr is at s3://{}/{}stderr.txt', $.stageName, $.stageExit.exitCode, $.bucket, $.prefix)",
  });
  const exited = new sfn.Choice(scope, ecsStageStates.exited, { stateName: ecsStageStates.exited })
    .when(sfn.Condition.numberEquals('$.stageExit.exitCode', 0), new sfn.Succeed(scope, 'StageSucceeded'))
    .otherwise(failed);
  resolve.next(find);
  find.next(runTask);
  register.next(runTask);
  runTask.next(exited);
  return resolve;
}

/** Builds the states in `scope` and returns the chain the state machine starts with. */
export function evaluationDefinition(scope: Construct, props: EvaluationDefinitionProps): sfn.IChainable {
  const maxConcurrency = props.maxConcurrency ?? limits.maxConcurrency;
  if (maxConcurrency < 1 || maxConcurrency > limits.maxConcurrency) {
    throw new Error(`evaluation maxConcurrency must be 1 to ${limits.maxConcurrency} (the inline Map limit), not ${maxConcurrency}`);
  }
  // A little beyond the function's own timeout, so that Lambda reports the timeout, not the state.
  const taskTimeout = sfn.Timeout.duration((props.taskTimeout ?? Duration.minutes(5)).plus(Duration.seconds(30)));

  const task = (name: TaskStateName, payload: Record<string, unknown>, options: { resultPath?: string; timeout?: sfn.Timeout } = {}) => {
    const state = new tasks.LambdaInvoke(scope, name, {
      stateName: name,
      lambdaFunction: props.tasks,
      payload: sfn.TaskInput.fromObject({ task: taskStates[name], ...payload }),
      // The function's answer itself, not Lambda's envelope: the same shape as a local override's.
      payloadResponseOnly: true,
      retryOnServiceExceptions: false,
      resultPath: options.resultPath ?? sfn.JsonPath.DISCARD,
      taskTimeout: options.timeout ?? taskTimeout,
    });
    state.addRetry({ errors: [...retryableErrors], interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 4 });
    return state;
  };
  const requestId = sfn.JsonPath.stringAt('$.requestId');
  const evaluationId = sfn.JsonPath.stringAt('$.evaluationId');
  const caught = { errors: [sfn.Errors.ALL], resultPath: '$.error' };

  // One point.
  const recordFailure = task('RecordFailure', { requestId, evaluationId, error: sfn.JsonPath.objectAt('$.error') });
  const startPoint = task('StartPoint', { requestId, evaluationId }, { resultPath: '$.start' });
  // The timeout path is read from the state's input in AWS and from its payload by aws-local-stepfunctions: both have it.
  const runStage = props.ecs
    ? ecsStage(scope, props.ecs)
    : task('RunStage', { run: sfn.JsonPath.entirePayload, taskTimeoutSeconds: sfn.JsonPath.numberAt('$.taskTimeoutSeconds') }, { timeout: sfn.Timeout.at('$.taskTimeoutSeconds') });
  const runStages = new sfn.Map(scope, otherStates.stages, {
    stateName: otherStates.stages,
    itemsPath: '$.start.runs',
    // In order: each stage reads the previous one's output.
    maxConcurrency: 1,
    resultPath: sfn.JsonPath.DISCARD,
  }).itemProcessor(runStage);
  const recordScores = task('RecordScores', { requestId, evaluationId });
  const compare = task('Compare', { requestId, evaluationId });
  for (const state of [startPoint, runStages, recordScores, compare]) state.addCatch(recordFailure, caught);
  const point = startPoint.next(runStages).next(recordScores).next(compare);

  const points = new sfn.Map(scope, otherStates.points, {
    stateName: otherStates.points,
    itemsPath: '$.points',
    itemSelector: { requestId: sfn.JsonPath.stringAt('$.requestId'), evaluationId: sfn.JsonPath.stringAt('$$.Map.Item.Value.evaluationId') },
    maxConcurrency,
    resultPath: sfn.JsonPath.DISCARD,
  }).itemProcessor(point);
  const phases = new sfn.Map(scope, otherStates.phases, {
    stateName: otherStates.phases,
    itemsPath: '$.plan.phases',
    itemSelector: { requestId: sfn.JsonPath.stringAt('$.requestId'), points: sfn.JsonPath.listAt('$$.Map.Item.Value.points') },
    // Baselines first, so the points compared with them find them done.
    maxConcurrency: 1,
    resultPath: sfn.JsonPath.DISCARD,
  }).itemProcessor(points);

  // The request part.
  const part = sfn.JsonPath.numberAt('$.part');
  const finish = task('Finish', { state: sfn.JsonPath.entirePayload });
  const prepare = task('Prepare', { requestId, part }, { resultPath: '$.plan' });
  const tally = task('Tally', { requestId, part }, { resultPath: '$.tally' });
  for (const state of [prepare, phases, tally]) state.addCatch(finish, caught);
  // A diagnostic never fails the part: its errors land in `$.diagnosticError`, which Finish does not read.
  const regressions = sfn.JsonPath.listAt('$.tally.evaluationIds');
  const diagnose = task('Diagnose', { requestId, evaluationIds: regressions }, { resultPath: '$.diagnostics' });
  const diagnosticFailed = task('DiagnosticFailed', { requestId, evaluationIds: regressions, error: sfn.JsonPath.objectAt('$.diagnosticError') });
  const diagnosticCaught = { errors: [sfn.Errors.ALL], resultPath: '$.diagnosticError' };
  diagnose.addCatch(diagnosticFailed, diagnosticCaught);
  diagnosticFailed.addCatch(finish, { errors: [sfn.Errors.ALL], resultPath: '$.diagnosticFailedError' });
  diagnosticFailed.next(finish);
  const regressed = new sfn.Choice(scope, otherStates.regressed, { stateName: otherStates.regressed })
    .when(sfn.Condition.booleanEquals('$.tally.regressed', true), diagnose.next(finish))
    .otherwise(finish);
  return prepare.next(phases).next(tally).next(regressed);
}

/** A placeholder ARN of the tasks function, for definitions built outside a deployed stack. */
export const placeholderTasksArn = (region = 'us-east-1', account = '000000000000', name = 'symbiont-evaluation-tasks') =>
  `arn:aws:lambda:${region}:${account}:function:${name}`;

/** An Amazon States Language document, as JSON. */
export type StateMachineJson = { StartAt: string; States: Record<string, unknown>; [key: string]: unknown };

/**
 * The definition as JSON, built by the same function the stack uses, in a throwaway stack with the
 * tasks function at `tasksArn`: what the local runtime runs, so local and AWS run the same ASL.
 */
export function evaluationDefinitionJson(tasksArn = placeholderTasksArn(), options: Omit<EvaluationDefinitionProps, 'tasks'> = {}): StateMachineJson {
  const stack = new Stack(new App(), 'EvaluationDefinition');
  const chain = evaluationDefinition(stack, { ...options, tasks: lambda.Function.fromFunctionArn(stack, 'Tasks', tasksArn) });
  const graph = new sfn.StateGraph(chain.startState, 'Evaluate');
  graph.timeout = EXECUTION_TIMEOUT;
  const json = stack.resolve(graph.toGraphJson()) as StateMachineJson;
  const text = JSON.stringify(json);
  if (text.includes('"Ref"') || text.includes('Fn::') || text.includes('${Token')) {
    throw new Error('the evaluation definition still holds CloudFormation tokens; build it with literal ARNs');
  }
  return json;
}
