import type { SymbiontConfig } from '#config/schema';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { ForbiddenError } from '#shared/errors';
import { createDocumentClient, createSfnClient, createSqsClient } from '#shared/aws';
import { requireEnv } from '#shared/env';
import { env as envNames } from '#shared/resources';
import { getRepositoryHead, listCommits, type CommitRecord, type RepositoryHead } from '#store/commits';
import {
  allRequestEvaluations,
  getEvaluation,
  getRequest,
  listEvaluations,
  type EvaluationPage,
  type EvaluationRecord,
  type ListEvaluationsQuery,
  type MetricComparison,
  type RequestRecord,
  type Verdict,
} from '#store/evaluations';
import { Table } from '#store/table';
import { EvaluationNotFoundError, InvalidEvaluationRequestError, RequestNotFoundError } from './errors.ts';
import type { CommitQueue } from './commit-queue.ts';
import { sqsCommitQueue } from './commit-queue.ts';
import { sqsEvaluationQueue, type EvaluationQueue } from './queue.ts';
import {
  reportCommit,
  requestEvaluation,
  type ReportCommitInput,
  type ReportedCommit,
  type RequestedEvaluation,
  type RequestEvaluationInput,
  type Requester,
} from './requests.ts';
import { compareScores } from './scores.ts';
import { cancelRequest } from './cancel.ts';
import { summarize, type RequestSummary } from './summary.ts';
import { trend, type Trend, type TrendQuery } from './trend.ts';

/**
 * Continuous evaluation as the API uses it: report commits, request evaluations, read them and
 * compare two of them. One object built per process with the table, the config and the queue.
 */
export interface EvaluationService {
  /** Records the commit (moving the head on the default branch) and queues its commit event for planning. */
  reportCommit(input: ReportCommitInput, requester: Requester): Promise<ReportedCommit & { queued: boolean }>;
  /** One page of a repository's commits, newest push first, each with its newest evaluations. */
  listCommits(repository: string, page: { limit?: number; cursor?: string }): Promise<CommitWithEvaluationsPage>;
  requestEvaluation(input: RequestEvaluationInput, requester: Requester): Promise<RequestedEvaluation>;
  listEvaluations(query: ListEvaluationsQuery): Promise<EvaluationPage>;
  getEvaluation(evaluationId: string): Promise<EvaluationRecord>;
  /** The request, with per metric its best points so far. */
  getRequest(requestId: string): Promise<RequestRecord & { summary: RequestSummary }>;
  /** Cancels a queued or running request: stops its executions, counts what had not run as cancelled. */
  cancelRequest(requestId: string, requester: Requester): Promise<{ request: RequestRecord; cancelled: boolean }>;
  /** Runs one evaluation again (admins) as a request of its own (reason `rerun`); the earlier evaluation stays. */
  rerunEvaluation(evaluationId: string, requester: Requester): Promise<RequestedEvaluation>;
  /** A metric over the default branch's heads and over dataset versions, with baselines, bands and regressions. */
  trend(query: TrendQuery): Promise<Trend>;
  compare(head: string, base?: string): Promise<EvaluationComparison>;
  heads(): Promise<{ repository: string; defaultBranch: string; head?: RepositoryHead }[]>;
}

/** Points up to which a running request's summary is computed on every read; larger ones are summarised once they end. */
export const LIVE_SUMMARY_MAX_POINTS = 1000;

/** Evaluations shown per commit in a commit listing. */
export const EVALUATIONS_PER_COMMIT = 20;

export interface CommitWithEvaluationsPage {
  items: (CommitRecord & { evaluations: EvaluationRecord[] })[];
  cursor?: string;
}

/** Two evaluations side by side, metric by metric. */
export interface EvaluationComparison {
  readonly pipeline: string;
  readonly head: EvaluationRecord;
  /** Absent when the head evaluation has no baseline and none was named. */
  readonly base?: EvaluationRecord;
  readonly metrics: Record<string, MetricComparison>;
  readonly verdict: Verdict;
  readonly regressed: boolean;
}

export interface EvaluationServiceDeps {
  readonly table: Table;
  readonly config: Pick<SymbiontConfig, 'pipelines' | 'repositories' | 'datasets'>;
  readonly queue: EvaluationQueue;
  /** Where reported commits are queued for `plan-evaluations`; without it a report only records. */
  readonly commitQueue?: CommitQueue;
  /** Where evaluation executions run, to stop them on cancel; without them a cancel stops none. */
  readonly sfn?: SFNClient;
  readonly stateMachineArn?: string;
  readonly now?: () => Date;
}

export function createEvaluationService(deps: EvaluationServiceDeps): EvaluationService {
  const { table, config } = deps;
  const find = async (evaluationId: string) => {
    const evaluation = await getEvaluation(table, evaluationId);
    if (!evaluation) throw new EvaluationNotFoundError(`no evaluation has the id ${evaluationId}`, { evaluationId });
    return evaluation;
  };
  return {
    async reportCommit(input, requester) {
      const reported = await reportCommit(input, requester, deps);
      // Queued on every report, the first or a repeat: planning is idempotent, and a repeat heals
      // a report whose queueing failed.
      if (!deps.commitQueue) return { ...reported, queued: false };
      const { commit } = reported;
      await deps.commitQueue.send({
        repository: commit.repository,
        sha: commit.sha,
        branch: commit.branch,
        pushedAt: commit.pushedAt,
        source: 'api',
        ...(commit.image ? { image: commit.image } : {}),
        reportedBy: requester.name,
      });
      return { ...reported, queued: true };
    },
    async listCommits(repository, page) {
      if (!Object.hasOwn(config.repositories, repository)) {
        throw new InvalidEvaluationRequestError(`no repository is named ${repository}; known repositories: ${Object.keys(config.repositories).join(', ') || 'none'}`, { repository });
      }
      const commits = await listCommits(table, repository, page);
      const items = await Promise.all(
        commits.items.map(async (commit) => ({
          ...commit,
          evaluations: (await listEvaluations(table, { repository, commit: commit.sha, limit: EVALUATIONS_PER_COMMIT })).items,
        })),
      );
      return { items, ...(commits.cursor ? { cursor: commits.cursor } : {}) };
    },
    requestEvaluation: (input, requester) => requestEvaluation(input, requester, deps),
    listEvaluations: (query) => listEvaluations(table, query),
    getEvaluation: find,
    async getRequest(requestId) {
      const request = await getRequest(table, requestId);
      if (!request) throw new RequestNotFoundError(`no evaluation request has the id ${requestId}`, { requestId });
      const metrics = config.pipelines[request.pipeline]?.metrics ?? {};
      // Reading every evaluation on each poll of a large request running would cost more than it tells.
      if (request.total > LIVE_SUMMARY_MAX_POINTS && (request.status === 'queued' || request.status === 'running')) return { ...request, summary: {} };
      return { ...request, summary: summarize(await allRequestEvaluations(table, requestId), metrics) };
    },
    cancelRequest: (requestId, requester) => cancelRequest(requestId, requester, deps),
    trend: (query) => trend(query, deps),
    async rerunEvaluation(evaluationId, requester) {
      if (requester.role !== 'admin') throw new ForbiddenError(`a rerun needs role admin; ${requester.name} has role ${requester.role}`, { required: ['admin'] });
      const evaluation = await find(evaluationId);
      return requestEvaluation(
        {
          pipeline: evaluation.pipeline,
          commitSets: [evaluation.commitSet],
          datasetVersions: [{ dataset: evaluation.dataset, version: evaluation.version }],
          // One value per parameter: exactly this point of the grid.
          parameters: Object.fromEntries(Object.entries(evaluation.parameters).map(([name, value]) => [name, [value]])),
          repeats: evaluation.repeats,
          rerun: true,
          rerunOf: evaluation.evaluationId,
        },
        requester,
        deps,
      );
    },
    async compare(headId, baseId) {
      const head = await find(headId);
      const chosen = baseId ?? head.baselineEvaluationId;
      const base = chosen ? await find(chosen) : undefined;
      if (base && base.pipeline !== head.pipeline) {
        throw new InvalidEvaluationRequestError(`evaluations of different pipelines (${base.pipeline}, ${head.pipeline}) have no metrics in common to compare`, {
          base: base.evaluationId,
          head: head.evaluationId,
        });
      }
      const pipeline = config.pipelines[head.pipeline];
      // A pipeline removed from the config: compare the metrics both have, lower is not assumed better.
      const metrics = pipeline?.metrics ?? Object.fromEntries(Object.keys(head.scores ?? {}).map((name) => [name, { goal: 'max' as const }]));
      const comparison = compareScores(head.scores ?? {}, base?.status === 'succeeded' ? base.scores : undefined, metrics);
      return { pipeline: head.pipeline, head, ...(base ? { base } : {}), metrics: comparison.metrics, verdict: comparison.verdict, regressed: comparison.regressed };
    },
    async heads() {
      return Promise.all(
        Object.entries(config.repositories).map(async ([repository, spec]) => {
          const head = await getRepositoryHead(table, repository);
          return { repository, defaultBranch: spec.defaultBranch, ...(head ? { head } : {}) };
        }),
      );
    },
  };
}

/**
 * The service as handlers build it once at module scope: the table named by `TABLE_NAME` and the
 * queue at `EVALUATION_QUEUE_URL`, through clients that honour the local endpoints.
 */
export function createEvaluationServiceFromEnv(config: EvaluationServiceDeps['config'], env: NodeJS.ProcessEnv = process.env): EvaluationService {
  return createEvaluationService({
    table: new Table(createDocumentClient(env), requireEnv(envNames.tableName, env)),
    config,
    queue: sqsEvaluationQueue(createSqsClient(env), requireEnv(envNames.evaluationQueueUrl, env)),
    commitQueue: sqsCommitQueue(createSqsClient(env), requireEnv(envNames.commitQueueUrl, env)),
    ...(env[envNames.stateMachineArn] ? { sfn: createSfnClient(env), stateMachineArn: env[envNames.stateMachineArn] } : {}),
  });
}
