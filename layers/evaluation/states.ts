import type { TaskName } from './tasks.ts';

/**
 * The Task states of the evaluation state machine and the task each runs: the contract between the
 * definition (infra), the tasks function and the local runtime's overrides, which are keyed by
 * these names. `RunStage` runs a stage: in AWS an ECS RunTask .sync of the stage's image (after
 * its task definition is found or registered), locally the runtime's stage runner.
 */
export const taskStates = {
  Prepare: 'prepare',
  StartPoint: 'start-point',
  RunStage: 'run-stage',
  RecordScores: 'record-scores',
  Compare: 'compare',
  RecordFailure: 'record-failure',
  Tally: 'tally',
  Diagnose: 'diagnose',
  DiagnosticFailed: 'diagnostic-failed',
  Finish: 'finish',
} as const satisfies Record<string, TaskName>;

export type TaskStateName = keyof typeof taskStates;

/** Task states that run a stage command rather than a task of the tasks function. */
export const stageStates: readonly TaskStateName[] = ['RunStage'];

/** The other states, named here so that tests and people find them by the same names. */
export const otherStates = {
  phases: 'EvaluatePhases',
  points: 'EvaluatePoints',
  stages: 'RunStages',
  regressed: 'Regressed?',
} as const;

/** Errors a task may be retried on: Lambda's own transient failures and {@link TransientTaskError}. */
export const retryableErrors = [
  'Lambda.ClientExecutionTimeoutException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
  'TransientTaskError',
] as const;
