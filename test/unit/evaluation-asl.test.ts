import { beforeAll, describe, expect, it } from 'vitest';
import { evaluationDefinitionJson, type StateMachineJson } from '../../infra/constructs/evaluation-definition.ts';
import { EvaluationPartFailedError, InvalidTaskInputError, StageFailedError, TransientTaskError } from '#evaluation/errors';
import type { StageRun } from '#evaluation/stage-contract';
import { taskStates } from '#evaluation/states';
import { evaluationOverrides } from '#local/stepfunctions-evaluation';
import { createLocalStepFunctions, taskStateNames, type ExecutionRecord, type HistoryEvent } from '#local/stepfunctions';
import { loadEvaluationDefinition } from '#local/stepfunctions-definition';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The evaluation state machine as the stack synthesizes it, run by aws-local-stepfunctions with
 * stand-ins for the tasks and the stage runner: its control flow — phases, order of stages,
 * retries, catches, the Regressed? choice — without a table or a process.
 */

let definition: StateMachineJson;

beforeAll(() => {
  definition = evaluationDefinitionJson();
}, 60_000);

interface Call {
  readonly task: string;
  readonly [key: string]: unknown;
}

interface Scenario {
  readonly points?: readonly string[];
  readonly baselines?: readonly string[];
  readonly stages?: number;
  readonly regressed?: readonly string[];
  /** Throws from the stage runner for this evaluation and stage, once or always. */
  readonly stageError?: { evaluationId: string; stage: number; error: Error; once?: boolean };
  readonly prepareError?: Error;
  readonly stageDelayMs?: number;
  /** Throws from `diagnose` (once or always), and from `diagnostic-failed`. */
  readonly diagnoseError?: { error: Error; once?: boolean };
  readonly diagnosticFailedError?: Error;
}

function run(evaluationId: string, stage: number): StageRun {
  return {
    evaluationId,
    pipeline: 'forecast',
    repeat: 0,
    stage,
    stageName: `stage${stage}`,
    last: false,
    repository: 'model',
    sha: 'b'.repeat(40),
    image: 'acme/model',
    ecrRepository: 'acme/model',
    imageTag: 'b'.repeat(40),
    command: ['true'],
    timeoutSeconds: 60,
    taskTimeoutSeconds: 180,
    commitSet: { model: 'b'.repeat(40) },
    parameters: {},
    bucket: 'data',
    input: { kind: 'stage', prefix: 'evaluations/x/' },
    prefix: `evaluations/${evaluationId}/r1/${stage + 1}-stage${stage}/`,
  };
}

/** Runs one execution of the definition with stand-ins and answers what they saw. */
async function execute(scenario: Scenario = {}): Promise<{ execution: ExecutionRecord; calls: Call[]; stages: { evaluationId: string; stage: number }[]; history: readonly HistoryEvent[]; maxInFlight: number }> {
  const points = scenario.points ?? ['E1', 'E2'];
  const baselines = scenario.baselines ?? [];
  const calls: Call[] = [];
  const stages: { evaluationId: string; stage: number }[] = [];
  let thrown = false;
  let diagnoseThrown = false;
  let inFlight = 0;
  let maxInFlight = 0;
  const tasks = async (payload: unknown) => {
    const call = payload as Call;
    calls.push(call);
    switch (call.task) {
      case 'prepare':
        if (scenario.prepareError) throw scenario.prepareError;
        return { phases: [{ phase: 'baseline', points: baselines.map((evaluationId) => ({ evaluationId })) }, { phase: 'candidate', points: points.map((evaluationId) => ({ evaluationId })) }] };
      case 'start-point':
        return { runs: Array.from({ length: scenario.stages ?? 2 }, (_, stage) => run(String(call.evaluationId), stage)) };
      case 'tally': {
        const regressed = scenario.regressed ?? [];
        return { regressed: regressed.length > 0, evaluationIds: regressed };
      }
      case 'diagnose': {
        const failing = scenario.diagnoseError;
        if (failing && !(failing.once && diagnoseThrown)) {
          diagnoseThrown = true;
          throw failing.error;
        }
        return { queued: (call.evaluationIds as string[]).length, failed: 0 };
      }
      case 'diagnostic-failed':
        if (scenario.diagnosticFailedError) throw scenario.diagnosticFailedError;
        return {};
      case 'finish': {
        const state = call.state as { error?: { Error: string } };
        if (state.error) throw new EvaluationPartFailedError(`part failed: ${state.error.Error}`);
        return { status: 'finished' };
      }
      default:
        return {};
    }
  };
  const runStage = async (stageRun: StageRun) => {
    stages.push({ evaluationId: stageRun.evaluationId, stage: stageRun.stage });
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      if (scenario.stageDelayMs) await new Promise((resolve) => setTimeout(resolve, scenario.stageDelayMs));
      const failing = scenario.stageError;
      if (failing && failing.evaluationId === stageRun.evaluationId && failing.stage === stageRun.stage && !(failing.once && thrown)) {
        thrown = true;
        throw failing.error;
      }
      return { exitCode: 0, durationMs: 1 };
    } finally {
      inFlight--;
    }
  };
  const face = createLocalStepFunctions({ region: 'us-east-1', accountId: '000000000000' });
  const arn = face.register({
    name: 'evaluate-test',
    definition,
    overrides: evaluationOverrides({ tasks, runStage }),
    // No waiting between retries in tests.
    retryIntervals: Object.fromEntries(Object.keys(taskStates).map((name) => [name, 0])),
  });
  const started = face.start(arn, 'test', JSON.stringify({ requestId: '01JD8X5Q3ZC9W8M2V7K4T6R1YB', part: 1, pipeline: 'forecast', executionName: 'test' }));
  const execution = await face.wait(started.executionArn);
  // The event log is read beside the run; give it a tick to catch up.
  await new Promise((resolve) => setTimeout(resolve, 20));
  return { execution, calls, stages, history: face.history(started.executionArn), maxInFlight };
}

const tasksNamed = (calls: Call[], task: string) => calls.filter((c) => c.task === task);

describe('the evaluation state machine under aws-local-stepfunctions', () => {
  it('has a local handler for every Task state of the synthesized definition', () => {
    // Prepare
    const overrides = evaluationOverrides({ tasks: async () => ({}), runStage: async () => ({}) });

    // Act
    const names = taskStateNames(definition);

    // Assess
    expect(names.sort()).toEqual(Object.keys(taskStates).sort());
    for (const name of names) expect(overrides).toHaveProperty(name);
  });

  it('gives the local runtime the definition the stack builds, and keeps it for the next start', async () => {
    // Prepare
    const cache = mkdtempSync(join(tmpdir(), 'symbiont-definition-'));
    const arn = 'arn:aws:lambda:us-east-1:000000000000:function:symbiont-dev-evaluation-tasks';

    // Act
    const first = await loadEvaluationDefinition(arn, cache);
    const second = await loadEvaluationDefinition(arn, cache);
    rmSync(cache, { recursive: true, force: true });

    // Assess
    expect(first).toEqual({ definition: evaluationDefinitionJson(arn), cached: false });
    expect(second).toEqual({ definition: first.definition, cached: true });
  });

  it('refuses to run a definition with a Task state it has no handler for', () => {
    // Prepare
    const face = createLocalStepFunctions({ region: 'us-east-1', accountId: '000000000000' });
    const { RunStage: _left, ...incomplete } = evaluationOverrides({ tasks: async () => ({}), runStage: async () => ({}) });

    // Act
    const registering = () => face.register({ name: 'incomplete', definition, overrides: incomplete });

    // Assess
    expect(registering).toThrow(/without a local handler would call AWS: RunStage/);
  });

  it('evaluates every point and finishes the part', async () => {
    // Act
    const { execution, calls } = await execute();

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(tasksNamed(calls, 'record-scores').map((c) => c.evaluationId).sort()).toEqual(['E1', 'E2']);
    expect(tasksNamed(calls, 'compare')).toHaveLength(2);
    expect(tasksNamed(calls, 'finish')).toHaveLength(1);
  });

  it('runs the baselines a request evaluates before the points compared with them', async () => {
    // Act
    const { calls } = await execute({ baselines: ['B1'], points: ['E1'] });

    // Assess
    const order = calls.filter((c) => c.task === 'start-point' || c.task === 'compare').map((c) => `${c.task}:${String(c.evaluationId)}`);
    expect(order).toEqual(['start-point:B1', 'compare:B1', 'start-point:E1', 'compare:E1']);
  });

  it('runs the stages of a point in order', async () => {
    // Act
    const { stages } = await execute({ points: ['E1'], stages: 3 });

    // Assess
    expect(stages).toEqual([0, 1, 2].map((stage) => ({ evaluationId: 'E1', stage })));
  });

  it('retries a stage that failed with a transient error', async () => {
    // Act
    const { execution, stages, calls, history } = await execute({
      points: ['E1'],
      stageError: { evaluationId: 'E1', stage: 0, error: new TransientTaskError('S3 was slow'), once: true },
    });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(stages.filter((s) => s.stage === 0)).toHaveLength(2);
    expect(history.some((e) => e.type === 'TaskRetried')).toBe(true);
    expect(tasksNamed(calls, 'record-failure')).toEqual([]);
  });

  it('records a failing stage as a failed evaluation and goes on with the other points', async () => {
    // Act
    const { execution, calls } = await execute({ stageError: { evaluationId: 'E2', stage: 1, error: new StageFailedError('stage stage1 exited with code 2') } });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(tasksNamed(calls, 'record-failure')).toEqual([
      { task: 'record-failure', requestId: '01JD8X5Q3ZC9W8M2V7K4T6R1YB', evaluationId: 'E2', error: { Error: 'StageFailedError', Cause: 'stage stage1 exited with code 2' } },
    ]);
    expect(tasksNamed(calls, 'record-scores').map((c) => c.evaluationId)).toEqual(['E1']);
    expect(tasksNamed(calls, 'tally')).toHaveLength(1);
  });

  it('does not retry a stage that failed for good', async () => {
    // Act
    const { stages } = await execute({ points: ['E1'], stageError: { evaluationId: 'E1', stage: 0, error: new StageFailedError('exit 1') } });

    // Assess: once, not retried. (aws-local-stepfunctions still starts the next iteration of the
    // in-order Map where Step Functions would stop; the local stage runner refuses to run it.)
    expect(stages.filter((s) => s.stage === 0)).toEqual([{ evaluationId: 'E1', stage: 0 }]);
  });

  it('makes the diagnostic reports of the part’s regressions, then finishes', async () => {
    // Act
    const { execution, calls } = await execute({ regressed: ['E2'] });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(tasksNamed(calls, 'diagnose')).toEqual([{ task: 'diagnose', requestId: '01JD8X5Q3ZC9W8M2V7K4T6R1YB', evaluationIds: ['E2'] }]);
    expect(calls.map((c) => c.task).slice(-3)).toEqual(['tally', 'diagnose', 'finish']);
    expect(tasksNamed(calls, 'diagnostic-failed')).toEqual([]);
  });

  it('makes no diagnostic report without regressions', async () => {
    // Act
    const { calls } = await execute({ regressed: [] });

    // Assess
    expect(tasksNamed(calls, 'diagnose')).toEqual([]);
    expect(tasksNamed(calls, 'finish')).toHaveLength(1);
  });

  it('retries a diagnostic that failed on a transient error', async () => {
    // Act
    const { execution, calls } = await execute({ regressed: ['E2'], diagnoseError: { error: new TransientTaskError('report queue throttled'), once: true } });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(tasksNamed(calls, 'diagnose')).toHaveLength(2);
    expect(tasksNamed(calls, 'diagnostic-failed')).toEqual([]);
  });

  it('records a diagnostic that kept failing on the evaluations and finishes the part as succeeded', async () => {
    // Act
    const { execution, calls } = await execute({ regressed: ['E2'], diagnoseError: { error: new TransientTaskError('report queue unreachable') } });

    // Assess: tried 1 + 4 times, recorded, and the part is not failed by it.
    expect(tasksNamed(calls, 'diagnose')).toHaveLength(5);
    expect(tasksNamed(calls, 'diagnostic-failed')).toEqual([
      { task: 'diagnostic-failed', requestId: '01JD8X5Q3ZC9W8M2V7K4T6R1YB', evaluationIds: ['E2'], error: { Error: 'TransientTaskError', Cause: 'report queue unreachable' } },
    ]);
    expect(execution.status).toBe('SUCCEEDED');
    expect((tasksNamed(calls, 'finish')[0]!.state as { error?: unknown }).error).toBeUndefined();
  });

  it('finishes the part even when recording a failed diagnostic fails too', async () => {
    // Act
    const { execution, calls } = await execute({
      regressed: ['E2'],
      diagnoseError: { error: new InvalidTaskInputError('no such request') },
      diagnosticFailedError: new InvalidTaskInputError('still no such request'),
    });

    // Assess
    expect(tasksNamed(calls, 'diagnose')).toHaveLength(1);
    expect(tasksNamed(calls, 'finish')).toHaveLength(1);
    expect(execution.status).toBe('SUCCEEDED');
  });

  it('fails the execution when a part cannot be prepared, after Finish has recorded why', async () => {
    // Act
    const { execution, calls } = await execute({ prepareError: new InvalidTaskInputError('request 01JD… has 1 part(s), not 2') });

    // Assess
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('EvaluationPartFailedError');
    expect((tasksNamed(calls, 'finish')[0]!.state as { error: { Error: string } }).error.Error).toBe('InvalidTaskInputError');
  });

  it('keeps what points and stages return out of the execution’s state', async () => {
    // Act
    const { execution } = await execute();

    // Assess
    const output = JSON.parse(execution.output ?? '{}') as Record<string, unknown>;
    expect(Object.keys(output).sort()).toEqual(['executionName', 'part', 'pipeline', 'plan', 'requestId', 'tally']);
    expect(execution.output).not.toContain('runs');
  });

  it('runs at most 40 points at once', async () => {
    // Prepare
    const points = Array.from({ length: 100 }, (_, i) => `E${i}`);

    // Act
    const { execution, maxInFlight, calls } = await execute({ points, stages: 1, stageDelayMs: 5 });

    // Assess
    expect(execution.status).toBe('SUCCEEDED');
    expect(maxInFlight).toBeGreaterThan(1);
    expect(maxInFlight).toBeLessThanOrEqual(40);
    expect(tasksNamed(calls, 'compare')).toHaveLength(100);
  });
});
