import { z } from 'zod';
import { evaluation as layout } from '#shared/resources';
import { commitSetSchema, parameterPointSchema } from '#store/evaluations';

/**
 * The stage contract (DESIGN.md "Running a stage at a commit") and where a stage run's files go.
 * One run of one stage is described by a {@link StageRun}: everything a runner needs — the local
 * runner in a git worktree, or (next) the stage wrapper in an ECS task — without reading the table.
 *
 * In the data bucket, under `evaluations/<id>/r<repeat>/<stage>-<name>/`:
 * - `output/…`: the folder the command wrote (`SYMBIONT_OUTPUT`); the last stage's holds `metrics.json`
 * - `stdout.txt`, `stderr.txt`: what it printed
 * - `result.json`: {@link StageResult}
 */

/**
 * Characters a stage run may take as JSON: ECS RunTask refuses overrides beyond 8,192 characters,
 * and in AWS the run travels as one (`SYMBIONT_RUN`), beside what the state machine adds to it (the
 * task definition's ARN, the image digest: under 600) and the override's own structure.
 */
export const MAX_STAGE_RUN_CHARACTERS = 7_000;

/** Seconds a RunStage task may take beyond the stage's own timeout: input download, output upload. */
export const TASK_TIMEOUT_MARGIN_SECONDS = 120;

/** Bytes of stderr kept on a failed evaluation's record. */
export const STDERR_TAIL_BYTES = 4096;

export const stageRunSchema = z.object({
  evaluationId: z.string().min(1),
  pipeline: z.string().min(1),
  /** 0-based. */
  repeat: z.number().int().nonnegative(),
  /** 0-based position in the pipeline. */
  stage: z.number().int().nonnegative(),
  stageName: z.string().min(1),
  /** The last stage of the pipeline writes `metrics.json`. */
  last: z.boolean(),
  repository: z.string().min(1),
  sha: z.string().min(1),
  /** The pipeline's stage image as configured: its ECR repository, perhaps with its registry host. */
  image: z.string().min(1),
  /** The ECR repository name alone, which ECR's DescribeImages takes. */
  ecrRepository: z.string().min(1),
  /** The image tag the repository's CI pushed: the commit sha. */
  imageTag: z.string().min(1),
  /**
   * In AWS, the image as ECR resolved it before the run: its digest and the digest-pinned
   * reference the task ran (set by the state machine's `ResolveStageImage`; absent locally).
   */
  stageImage: z.object({ digest: z.string().min(1), reference: z.string().min(1) }).optional(),
  command: z.array(z.string()).min(1),
  timeoutSeconds: z.number().int().positive(),
  /** The Task state's timeout: {@link TASK_TIMEOUT_MARGIN_SECONDS} more than the stage's. */
  taskTimeoutSeconds: z.number().int().positive(),
  commitSet: commitSetSchema,
  parameters: parameterPointSchema,
  bucket: z.string().min(1),
  /** The first stage reads the dataset version's object; later ones the previous stage's output prefix. */
  input: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('dataset'), dataset: z.string(), version: z.number().int().positive(), key: z.string().min(1) }),
    z.object({ kind: z.literal('stage'), prefix: z.string().min(1) }),
  ]),
  /** Where this run's files go: `evaluations/<id>/r<repeat>/<stage>-<name>/`. */
  prefix: z.string().min(1),
});
export type StageRun = z.infer<typeof stageRunSchema>;

/** What `result.json` says of a stage run. */
export const stageResultSchema = z.object({
  exitCode: z.number().int().nullable(),
  signal: z.string().nullable(),
  timedOut: z.boolean(),
  durationMs: z.number().nonnegative(),
  startedAt: z.string(),
  finishedAt: z.string(),
  /** The digest-pinned image the run ran (in AWS). */
  image: z.string().optional(),
});
export type StageResult = z.infer<typeof stageResultSchema>;

/** The ECR repository name of a configured stage image (its registry host, if any, left off). */
export function ecrRepositoryOf(image: string): string {
  return image.replace(/^[^/]+\.amazonaws\.com(?:\.cn)?\//, '');
}

/** `evaluations/<id>/` */
export const evaluationPrefix = (evaluationId: string): string => `${layout.outputPrefix}${evaluationId}/`;

/** `evaluations/<id>/r<repeat>/<stage>-<name>/` */
export function stageRunPrefix(evaluationId: string, repeat: number, stage: number, stageName: string): string {
  return `${evaluationPrefix(evaluationId)}r${repeat + 1}/${stage + 1}-${stageName.replace(/[^A-Za-z0-9_.-]/g, '_')}/`;
}

/** The files of a stage run, relative to its prefix. */
export const stageFiles = { output: 'output/', stdout: 'stdout.txt', stderr: 'stderr.txt', result: 'result.json', metrics: 'output/metrics.json' } as const;

/** The environment of the stage command (on top of the runner's own). */
export function stageEnvironment(run: StageRun, paths: { input: string; output: string }): Record<string, string> {
  return {
    SYMBIONT_INPUT: paths.input,
    SYMBIONT_OUTPUT: paths.output,
    SYMBIONT_PARAMS: JSON.stringify(run.parameters),
    SYMBIONT_COMMIT_SET: JSON.stringify(run.commitSet),
    SYMBIONT_EVALUATION_ID: run.evaluationId,
    SYMBIONT_STAGE: run.stageName,
    SYMBIONT_REPEAT: String(run.repeat + 1),
  };
}

/** The last `bytes` of a text, cut at a line start when one is near. */
export function tail(text: string, bytes = STDERR_TAIL_BYTES): string {
  if (Buffer.byteLength(text) <= bytes) return text;
  const cut = Buffer.from(text).subarray(-bytes).toString('utf8');
  const newline = cut.indexOf('\n');
  return newline >= 0 && newline < 200 ? cut.slice(newline + 1) : cut;
}
