import { logger } from '#shared/observability';
import { withCorrelation } from '#shared/tracing';
import { isDataVersionMessage, type CommitMessage, type DataVersionMessage, type IntakeMessage } from './commit-messages.ts';
import { InvalidEvaluationRequestError } from './errors.ts';
import { pipelineRepositories, reportCommit, requestEvaluation, type RequestDeps, type Requester } from './requests.ts';

/**
 * `plan-evaluations` (DESIGN.md "Flows"): the commit queue's consumer. A commit event is recorded
 * (once), moves its repository's default-branch head when it is on that branch, and becomes one
 * evaluation request (reason `commit`) per pipeline using the repository: the commit set is this
 * commit plus the default-branch heads of the pipeline's other repositories, on the pipeline's
 * datasets at their latest versions, compared with the default-branch baseline. A new dataset
 * version becomes one request (reason `data`) per pipeline evaluated on the dataset: the
 * default-branch commit set on that version, which is what becomes the version's baseline.
 *
 * What cannot be evaluated yet (a repository of the pipeline has no head, a dataset no version) is
 * logged and skipped; anything else throws, for the queue to retry (requests are idempotent by
 * what they evaluate, so a retry asks for nothing twice).
 */

/** What planning did for one pipeline. */
export interface PlannedPipeline {
  readonly pipeline: string;
  /** The request asked for (or found, when the same evaluation was asked before). */
  readonly requestId?: string;
  readonly created?: boolean;
  /** Why no request was made. */
  readonly skipped?: string;
}

export interface PlanOutcome {
  readonly kind: 'commit' | 'data';
  readonly pipelines: readonly PlannedPipeline[];
  /** Why nothing was planned at all (an unknown repository or dataset). */
  readonly skipped?: string;
}

export type PlanDeps = RequestDeps;

/**
 * Plans the evaluations one commit-queue message calls for. Its log lines and trace carry what the
 * message is about: the commit (`repository`, `sha`) or the dataset version (`dataset`, `version`).
 */
export function planEvaluations(message: IntakeMessage, deps: PlanDeps): Promise<PlanOutcome> {
  return isDataVersionMessage(message)
    ? withCorrelation({ dataset: message.dataset, version: message.version }, () => planForDataVersion(message, deps))
    : withCorrelation({ repository: message.repository, sha: message.sha }, () => planForCommit(message, deps));
}

async function planForCommit(message: CommitMessage, deps: PlanDeps): Promise<PlanOutcome> {
  const { repository, sha } = message;
  if (!Object.hasOwn(deps.config.repositories, repository)) {
    logger.warn('commit of a repository the config no longer has; nothing planned', { repository, sha });
    return { kind: 'commit', pipelines: [], skipped: `repository ${repository} is not configured` };
  }
  const requester: Requester = { name: message.source === 'github' ? 'github' : (message.reportedBy ?? 'api'), role: 'scientist' };
  await reportCommit(
    {
      repository,
      sha,
      branch: message.branch,
      pushedAt: message.pushedAt,
      source: message.source,
      ...(message.deliveryId ? { deliveryId: message.deliveryId } : {}),
      ...(message.image ? { image: message.image } : {}),
    },
    requester,
    deps,
  );
  const pipelines = Object.entries(deps.config.pipelines).filter(([, spec]) => pipelineRepositories(spec).includes(repository));
  const planned: PlannedPipeline[] = [];
  for (const [pipeline] of pipelines) {
    planned.push(
      await requestOrSkip(pipeline, () =>
        requestEvaluation({ pipeline, commitSets: [{ [repository]: sha }], reason: 'commit', trigger: { repository, sha } }, requester, deps),
      ),
    );
  }
  logger.info('evaluations planned for a commit', { repository, sha, branch: message.branch, pipelines: planned });
  return { kind: 'commit', pipelines: planned };
}

async function planForDataVersion(message: DataVersionMessage, deps: PlanDeps): Promise<PlanOutcome> {
  const { dataset, version } = message;
  const requester: Requester = { name: 'new-data', role: 'scientist' };
  const pipelines = Object.entries(deps.config.pipelines).filter(([, spec]) => spec.datasets.includes(dataset));
  const planned: PlannedPipeline[] = [];
  for (const [pipeline] of pipelines) {
    planned.push(
      await requestOrSkip(pipeline, () =>
        requestEvaluation({ pipeline, datasetVersions: [{ dataset, version }], reason: 'data', trigger: { dataset, version } }, requester, deps),
      ),
    );
  }
  logger.info('evaluations planned for a new dataset version', { dataset, version, pipelines: planned });
  return { kind: 'data', pipelines: planned };
}

async function requestOrSkip(pipeline: string, request: () => ReturnType<typeof requestEvaluation>): Promise<PlannedPipeline> {
  try {
    const { request: made, created } = await request();
    return { pipeline, requestId: made.requestId, created };
  } catch (error) {
    // Not evaluable yet (no head, no version): retrying would not change that; the next push or
    // version will.
    if (!(error instanceof InvalidEvaluationRequestError)) throw error;
    logger.info('pipeline not evaluated yet', { pipeline, reason: error.message });
    return { pipeline, skipped: error.message };
  }
}
