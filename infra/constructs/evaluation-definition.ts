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
 *         ─> Tally ─> Regressed? ─(yes)─> ReportWanted ─> Finish
 *                               └─(no)──────────────────> Finish
 * ```
 * Map iterations write to the table and return nothing (`ResultPath: null`), so the execution's
 * state holds ids only. Every task is retried on transient errors; a failure of Prepare, the Map
 * or Tally goes to Finish, which records it and fails the execution.
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
  const runStage = task(
    'RunStage',
    { run: sfn.JsonPath.entirePayload, taskTimeoutSeconds: sfn.JsonPath.numberAt('$.taskTimeoutSeconds') },
    { timeout: sfn.Timeout.at('$.taskTimeoutSeconds') },
  );
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
  const reportWanted = task('ReportWanted', { requestId, evaluationIds: sfn.JsonPath.listAt('$.tally.evaluationIds') });
  for (const state of [prepare, phases, tally, reportWanted]) state.addCatch(finish, caught);
  const regressed = new sfn.Choice(scope, otherStates.regressed, { stateName: otherStates.regressed })
    .when(sfn.Condition.booleanEquals('$.tally.regressed', true), reportWanted.next(finish))
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
