import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import type { SymbiontConfig } from '#config/schema';
import { evaluation as layout } from '#shared/resources';
import { stageRunSchema, type StageRun } from '#evaluation/stage-contract';
import { otherStates, stageStates, taskStates, type TaskStateName } from '#evaluation/states';
import type { StateMachineJson } from '../infra/constructs/evaluation-definition.ts';
import { lambdaContext } from './sqs-poller.ts';
import { createStageRunner } from './stage-runner.ts';
import type { LocalStepFunctions, TaskOverride } from './stepfunctions.ts';

/**
 * The evaluation state machine in the local runtime: the stack's definition, every Task state
 * overridden — the tasks function's states by the same handler Lambda runs, `RunStage` by the local
 * stage runner (the stand-in for the ECS task and its stage wrapper) — registered on the local
 * Step Functions face.
 */

/** What stands in for the two kinds of Task state. */
export interface EvaluationOverrideTargets {
  /** The `evaluation-tasks` handler (or a stand-in), called with the state's payload. */
  readonly tasks: (payload: unknown) => Promise<unknown>;
  /** Runs one stage. */
  readonly runStage: (run: StageRun) => Promise<unknown>;
}

/** A local handler for every Task state of the evaluation state machine, by state name. */
export function evaluationOverrides(targets: EvaluationOverrideTargets): Record<TaskStateName, TaskOverride> {
  const overrides = {} as Record<TaskStateName, TaskOverride>;
  for (const name of Object.keys(taskStates) as TaskStateName[]) {
    overrides[name] = stageStates.includes(name)
      ? (input) => targets.runStage(stageRunSchema.parse((input as { run?: unknown }).run))
      : (input) => targets.tasks(input);
  }
  return overrides;
}

/** A Lambda handler called as Lambda calls it, with a context named like the stack's function. */
export function invokeLocally(handler: (event: unknown, context: Context) => Promise<unknown>, functionName: string, region: string, timeoutSeconds: number) {
  return (payload: unknown) => handler(payload, lambdaContext(functionName, region, timeoutSeconds));
}

export interface LocalEvaluationOptions {
  readonly face: LocalStepFunctions;
  readonly definition: StateMachineJson;
  readonly stage: string;
  readonly region: string;
  readonly config: Pick<SymbiontConfig, 'repositories'>;
  readonly configDir: string;
  readonly dataDir: string;
  readonly s3: S3Client;
  /** The function name prefix the stack's functions would have locally (`symbiont-<stage>`). */
  readonly functionPrefix: string;
  /** Points evaluated at once (the points Map's MaxConcurrency, config `local.evaluationConcurrency`). @default the definition's */
  readonly pointConcurrency?: number;
}

/**
 * The definition with the points Map's MaxConcurrency set: in AWS it is the stack's knob; locally,
 * where stages share one machine, the config's `local.evaluationConcurrency` sets it.
 */
export function withPointConcurrency(definition: StateMachineJson, concurrency: number): StateMachineJson {
  let found = false;
  const visit = (graph: Record<string, unknown>): Record<string, unknown> => ({
    ...graph,
    States: Object.fromEntries(
      Object.entries(graph.States as Record<string, Record<string, unknown>>).map(([name, state]) => {
        let next = state;
        if (name === otherStates.points) {
          found = true;
          next = { ...next, MaxConcurrency: concurrency };
        }
        const processor = (next.ItemProcessor ?? next.Iterator) as Record<string, unknown> | undefined;
        if (processor) next = { ...next, [next.ItemProcessor ? 'ItemProcessor' : 'Iterator']: visit(processor) };
        return [name, next];
      }),
    ),
  });
  const patched = visit(definition as unknown as Record<string, unknown>) as unknown as StateMachineJson;
  if (!found) throw new Error(`the evaluation definition has no ${otherStates.points} Map to set the concurrency of`);
  return patched;
}

/** Registers the evaluation state machine and answers its ARN. */
export async function registerLocalEvaluation(options: LocalEvaluationOptions): Promise<string> {
  // Imported here: the handler reads its environment at module scope, which the runtime has set by now.
  const { handler } = await import('../functions/evaluation-tasks/handler.ts');
  const runner = createStageRunner({ config: options.config, configDir: options.configDir, dataDir: options.dataDir, s3: options.s3 });
  return options.face.register({
    name: layout.stateMachineName(options.stage),
    definition: options.pointConcurrency === undefined ? options.definition : withPointConcurrency(options.definition, options.pointConcurrency),
    overrides: evaluationOverrides({
      tasks: invokeLocally(handler as never, `${options.functionPrefix}-evaluation-tasks`, options.region, 300),
      runStage: (run) => runner.run(run),
    }),
  });
}

/** The ARN the definition names the tasks function by, locally. */
export const localTasksArn = (region: string, accountId: string, functionPrefix: string) => `arn:aws:lambda:${region}:${accountId}:function:${functionPrefix}-evaluation-tasks`;

/** Where the face keeps finished executions and the built definition. */
export const stepFunctionsDir = (dataDir: string) => join(dataDir, 'stepfunctions');
