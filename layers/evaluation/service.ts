import type { SymbiontConfig } from '#config/schema';
import { createDocumentClient, createSqsClient } from '#shared/aws';
import { requireEnv } from '#shared/env';
import { env as envNames } from '#shared/resources';
import { getRepositoryHead, type RepositoryHead } from '#store/commits';
import {
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

/**
 * Continuous evaluation as the API uses it: report commits, request evaluations, read them and
 * compare two of them. One object built per process with the table, the config and the queue.
 */
export interface EvaluationService {
  reportCommit(input: ReportCommitInput, requester: Requester): Promise<ReportedCommit>;
  requestEvaluation(input: RequestEvaluationInput, requester: Requester): Promise<RequestedEvaluation>;
  listEvaluations(query: ListEvaluationsQuery): Promise<EvaluationPage>;
  getEvaluation(evaluationId: string): Promise<EvaluationRecord>;
  getRequest(requestId: string): Promise<RequestRecord>;
  compare(head: string, base?: string): Promise<EvaluationComparison>;
  heads(): Promise<{ repository: string; defaultBranch: string; head?: RepositoryHead }[]>;
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
    reportCommit: (input, requester) => reportCommit(input, requester, deps),
    requestEvaluation: (input, requester) => requestEvaluation(input, requester, deps),
    listEvaluations: (query) => listEvaluations(table, query),
    getEvaluation: find,
    async getRequest(requestId) {
      const request = await getRequest(table, requestId);
      if (!request) throw new RequestNotFoundError(`no evaluation request has the id ${requestId}`, { requestId });
      return request;
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
  });
}
