import { ulid } from 'ulid';
import type { PipelineSpec, SymbiontConfig } from '#config/schema';
import { ForbiddenError } from '#shared/errors';
import { logger } from '#shared/observability';
import { commitShaSchema, findCommits, getRepositoryHead, moveRepositoryHead, recordCommit, type CommitRecord, type CommitSource, type RepositoryHead } from '#store/commits';
import {
  claimRequestHash,
  countRerun,
  createRequest,
  getBaseline,
  getRequest,
  pointKey,
  type CommitSet,
  type DatasetVersionRef,
  type EvaluationReason,
  type ParameterPoint,
  type RequestRecord,
} from '#store/evaluations';
import type { Table } from '#store/table';
import { getLatestVersion, getVersion } from '#store/versions';
import { InvalidEvaluationRequestError, RequestTooLargeError, UnknownCommitError } from './errors.ts';
import { executionName, pointHash, requestHash } from './identity.ts';
import type { EvaluationMessage } from './messages.ts';
import { planRequest } from './plan.ts';
import type { EvaluationQueue } from './queue.ts';

/**
 * Evaluation requests and commit reports, as the API makes them. A request is resolved against
 * the table when it is made — missing commits become the default-branch heads, missing dataset
 * versions the latest ones, a missing grid the pipeline's — and its baseline is frozen: the heads
 * then, and the baseline pointers then. It is recorded, then queued (DESIGN.md "Messages").
 */

/** Points one request may hold at most (its parts run one after another). */
export const MAX_POINTS_PER_REQUEST = 10_000;

/** Who asks. */
export interface Requester {
  readonly name: string;
  readonly role: 'admin' | 'scientist' | 'uploader';
}

export interface RequestEvaluationInput {
  readonly pipeline: string;
  /** Commit sets to evaluate; a repository left out is taken at its default-branch head; a sha may be short (7+ digits) when recorded. @default the heads */
  readonly commitSets?: readonly Readonly<Record<string, string>>[];
  /** Dataset versions; a version left out is the latest. @default the latest version of each of the pipeline's datasets */
  readonly datasetVersions?: readonly { readonly dataset: string; readonly version?: number }[];
  /** Parameter values that replace the pipeline's grid, per parameter. @default the pipeline's grid */
  readonly parameters?: Readonly<Record<string, readonly (string | number | boolean)[]>>;
  /** @default the pipeline's */
  readonly repeats?: number;
  /** @default `manual`, or `rerun` for a rerun */
  readonly reason?: Exclude<EvaluationReason, 'rerun'>;
  /** Run again what was asked before (admins only); otherwise asking again finds the earlier request. */
  readonly rerun?: boolean;
  /** What made the request: the commit pushed (reason `commit`) or the dataset version published (reason `data`). */
  readonly trigger?: EvaluationTrigger;
}

/** The commit or dataset version that made a request. */
export type EvaluationTrigger = { readonly repository: string; readonly sha: string } | { readonly dataset: string; readonly version: number };

export interface RequestDeps {
  readonly table: Table;
  readonly config: Pick<SymbiontConfig, 'pipelines' | 'repositories' | 'datasets'>;
  readonly queue: EvaluationQueue;
  readonly now?: () => Date;
}

/** A request, and whether this call made it (`false`: the same evaluation was asked for before). */
export interface RequestedEvaluation {
  readonly request: RequestRecord;
  readonly created: boolean;
}

/** The repositories of a pipeline, in stage order. */
export function pipelineRepositories(pipeline: Pick<PipelineSpec, 'stages'>): string[] {
  return [...new Set(pipeline.stages.map((s) => s.repository))];
}

/** Records (or finds) an evaluation request and queues its first part. */
export async function requestEvaluation(input: RequestEvaluationInput, requester: Requester, deps: RequestDeps): Promise<RequestedEvaluation> {
  const pipeline = deps.config.pipelines[input.pipeline];
  if (!pipeline || !Object.hasOwn(deps.config.pipelines, input.pipeline)) {
    throw new InvalidEvaluationRequestError(`no pipeline is named ${input.pipeline}; known pipelines: ${Object.keys(deps.config.pipelines).join(', ') || 'none'}`, {
      pipeline: input.pipeline,
    });
  }
  if (input.rerun && requester.role !== 'admin') {
    throw new ForbiddenError(`a rerun needs role admin; ${requester.name} has role ${requester.role}`, { required: ['admin'] });
  }
  const repositories = pipelineRepositories(pipeline);
  const heads = new Map<string, RepositoryHead | undefined>(
    await Promise.all(repositories.map(async (r) => [r, await getRepositoryHead(deps.table, r)] as const)),
  );
  const baselineCommitSet = repositories.every((r) => heads.get(r)) ? Object.fromEntries(repositories.map((r) => [r, heads.get(r)!.sha])) : undefined;
  const baselineOrder = baselineCommitSet ? repositories.reduce((sum, r) => sum + heads.get(r)!.seq, 0) : undefined;

  const commitSets = await Promise.all((input.commitSets?.length ? input.commitSets : [{}]).map((given, i) => resolveCommitSet(given, i, repositories, heads, deps.table)));
  const datasetVersions = await resolveDatasetVersions(input, pipeline, deps.table);
  const parameterPoints = gridPoints(pipeline, input.parameters);
  const repeats = input.repeats ?? pipeline.repeats;
  const points = commitSets.length * datasetVersions.length * parameterPoints.length;
  if (points > MAX_POINTS_PER_REQUEST) {
    throw new RequestTooLargeError(`the request has ${points} points (commit sets × dataset versions × parameter points); at most ${MAX_POINTS_PER_REQUEST} fit in one request`, { points });
  }

  const hash = requestHash({ pipeline: input.pipeline, commitSets, datasetVersions, parameterPoints, repeats, baselineCommitSet });
  const now = (deps.now?.() ?? new Date()).toISOString();
  let requestId = ulid();
  let rerun = 0;
  const { claim, created } = await claimRequestHash(deps.table, hash, requestId, now);
  if (!created) {
    if (input.rerun) {
      rerun = await countRerun(deps.table, hash);
    } else {
      const existing = await getRequest(deps.table, claim.requestId);
      if (existing) {
        // Still queued: the message may have been lost with the call that recorded it. Starting is
        // idempotent by execution name, so sending again is safe.
        if (existing.status === 'queued') await deps.queue.send(messageForPart(existing, 1, existing.executions.length));
        logger.info('evaluation requested before; answering the existing request', { requestId: existing.requestId });
        return { request: existing, created: false };
      }
      // Claimed by a call that stopped before recording its request: finish its work.
      requestId = claim.requestId;
    }
  }

  const pointers: RequestRecord['pointers'] = {};
  for (const { dataset, version } of datasetVersions) {
    for (const parameters of parameterPoints) {
      const hashOfPoint = pointHash(parameters);
      const pointer = await getBaseline(deps.table, input.pipeline, dataset, version, hashOfPoint);
      if (pointer) pointers[pointKey(dataset, version, hashOfPoint)] = { evaluationId: pointer.evaluationId, commitSetId: pointer.commitSetId };
    }
  }
  const draft = { requestId, commitSets, datasetVersions, parameterPoints, repeats, baselineCommitSet, pointers };
  const plan = planRequest(draft, pipeline);
  const parts = plan.parts.length;
  const request: RequestRecord = {
    ...draft,
    pipeline: input.pipeline,
    reason: input.rerun ? 'rerun' : (input.reason ?? 'manual'),
    ...(input.trigger ? { trigger: { ...input.trigger } } : {}),
    hash,
    rerun,
    ...(baselineOrder !== undefined ? { baselineOrder } : {}),
    total: plan.points.length,
    executions: Array.from({ length: parts }, (_, i) => executionName(input.pipeline, hash, i + 1, parts, rerun)),
    status: 'queued',
    done: 0,
    failed: 0,
    cancelled: 0,
    regressed: 0,
    partsFinished: 0,
    createdBy: requester.name,
    createdAt: now,
    updatedAt: now,
  };
  await createRequest(deps.table, request);
  // Parts run one after the other: the first is queued here, each `finish` queues the next.
  await deps.queue.send(messageForPart(request, 1, parts));
  logger.info('evaluation requested', { requestId, pipeline: input.pipeline, points: request.total, parts });
  return { request, created: true };
}

/** The evaluation message of one part of a recorded request. */
export function messageForPart(request: RequestRecord, part: number, parts: number): EvaluationMessage {
  return {
    requestId: request.requestId,
    part,
    parts,
    pipeline: request.pipeline,
    commitSets: request.commitSets,
    datasetVersions: request.datasetVersions,
    parameterPoints: request.parameterPoints,
    repeats: request.repeats,
    reason: request.reason,
    ...(request.trigger ? { trigger: request.trigger } : {}),
    ...(request.baselineCommitSet ? { baselineCommitSet: request.baselineCommitSet } : {}),
    executionName: request.executions[part - 1] ?? executionName(request.pipeline, request.hash, part, parts, request.rerun),
  };
}

async function resolveCommitSet(
  given: Readonly<Record<string, string>>,
  index: number,
  repositories: readonly string[],
  heads: ReadonlyMap<string, RepositoryHead | undefined>,
  table: Table,
): Promise<CommitSet> {
  const unknown = Object.keys(given).filter((r) => !repositories.includes(r));
  if (unknown.length > 0) {
    throw new InvalidEvaluationRequestError(`commitSets[${index}] names ${unknown.join(', ')}, not a repository of this pipeline (${repositories.join(', ')})`, { index, unknown });
  }
  const set: CommitSet = {};
  for (const repository of repositories) {
    const sha = given[repository];
    if (sha === undefined) {
      const head = heads.get(repository);
      if (!head) {
        throw new InvalidEvaluationRequestError(
          `repository ${repository} has no default-branch head yet: give its sha, or report one (symbiont commits report ${repository} <sha>)`,
          { repository },
        );
      }
      set[repository] = head.sha;
    } else {
      set[repository] = await resolveSha(table, repository, sha.toLowerCase());
    }
  }
  return set;
}

/** A full sha as given, or the one recorded commit a short sha (7+ digits) stands for. */
async function resolveSha(table: Table, repository: string, sha: string): Promise<string> {
  if (commitShaSchema.safeParse(sha).success) return sha;
  if (!/^[0-9a-f]{7,63}$/.test(sha)) throw new InvalidEvaluationRequestError(`"${sha}" is not a commit sha of ${repository} (7 to 40 hex digits)`, { repository, sha });
  const found: CommitRecord[] = await findCommits(table, repository, sha, 2);
  if (found.length === 1) return found[0]!.sha;
  throw new UnknownCommitError(
    found.length === 0
      ? `no recorded commit of ${repository} starts with ${sha}: give the full sha, or report the commit first`
      : `${sha} is ambiguous in ${repository}: give more digits`,
    { repository, sha },
  );
}

async function resolveDatasetVersions(input: RequestEvaluationInput, pipeline: PipelineSpec, table: Table): Promise<DatasetVersionRef[]> {
  const wanted: readonly { dataset: string; version?: number }[] = input.datasetVersions?.length ? input.datasetVersions : pipeline.datasets.map((dataset) => ({ dataset }));
  const resolved: DatasetVersionRef[] = [];
  for (const { dataset, version } of wanted) {
    if (!pipeline.datasets.includes(dataset)) {
      throw new InvalidEvaluationRequestError(`pipeline ${input.pipeline} is evaluated on ${pipeline.datasets.join(', ')}, not on ${dataset}`, { dataset });
    }
    if (version === undefined) {
      const latest = await getLatestVersion(table, dataset);
      if (!latest) throw new InvalidEvaluationRequestError(`dataset ${dataset} has no published version yet: upload a file first`, { dataset });
      resolved.push({ dataset, version: latest.version });
    } else {
      if (!(await getVersion(table, dataset, version))) throw new InvalidEvaluationRequestError(`dataset ${dataset} has no published version ${version}`, { dataset, version });
      resolved.push({ dataset, version });
    }
  }
  return resolved;
}

/** The product of the grid: the pipeline's values, with the given parameters' values in their place. */
export function gridPoints(pipeline: Pick<PipelineSpec, 'parameters'>, given: RequestEvaluationInput['parameters'] = {}): ParameterPoint[] {
  const unknown = Object.keys(given).filter((name) => !Object.hasOwn(pipeline.parameters, name));
  if (unknown.length > 0) {
    throw new InvalidEvaluationRequestError(
      `unknown parameter${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}; the pipeline has ${Object.keys(pipeline.parameters).join(', ') || 'none'}`,
      { unknown },
    );
  }
  const grid = Object.entries({ ...pipeline.parameters, ...given }).sort(([a], [b]) => (a < b ? -1 : 1));
  let points: ParameterPoint[] = [{}];
  for (const [name, values] of grid) {
    if (values.length === 0) throw new InvalidEvaluationRequestError(`parameter ${name} needs at least one value`, { parameter: name });
    points = points.flatMap((point) => [...new Set(values)].map((value) => ({ ...point, [name]: value })));
  }
  return points;
}

// ---------------------------------------------------------------------------------------------

export interface ReportCommitInput {
  readonly repository: string;
  readonly sha: string;
  /** @default the repository's default branch */
  readonly branch?: string;
  readonly image?: string;
  /** @default now */
  readonly pushedAt?: string;
  /** @default `api` */
  readonly source?: CommitSource;
  /** The GitHub delivery that announced it. */
  readonly deliveryId?: string;
}

export interface ReportedCommit {
  readonly commit: CommitRecord;
  /** `false`: it was reported before. */
  readonly created: boolean;
  /** The head after the report, for a commit on the default branch. */
  readonly head?: RepositoryHead;
  readonly headMoved: boolean;
}

/** Records a commit and, on the default branch, moves the repository's head to it. */
export async function reportCommit(
  input: ReportCommitInput,
  requester: Requester,
  deps: Pick<RequestDeps, 'table' | 'config' | 'now'>,
): Promise<ReportedCommit> {
  const repository = deps.config.repositories[input.repository];
  if (!repository || !Object.hasOwn(deps.config.repositories, input.repository)) {
    throw new InvalidEvaluationRequestError(`no repository is named ${input.repository}; known repositories: ${Object.keys(deps.config.repositories).join(', ') || 'none'}`, {
      repository: input.repository,
    });
  }
  const now = (deps.now?.() ?? new Date()).toISOString();
  const branch = input.branch ?? repository.defaultBranch;
  const { commit, created } = await recordCommit(deps.table, {
    repository: input.repository,
    sha: input.sha,
    branch,
    pushedAt: input.pushedAt ?? now,
    source: input.source ?? 'api',
    ...(input.deliveryId ? { deliveryId: input.deliveryId } : {}),
    ...(input.image ? { image: input.image } : {}),
    ...((input.source ?? 'api') === 'api' ? { reportedBy: requester.name } : {}),
    recordedAt: now,
  });
  if (branch !== repository.defaultBranch) return { commit, created, headMoved: false };
  const { head, moved } = await moveRepositoryHead(deps.table, { repository: input.repository, sha: input.sha, branch, pushedAt: input.pushedAt ?? now, at: now });
  logger.info(moved ? 'repository head moved' : 'repository head unchanged', { repository: input.repository, sha: input.sha, seq: head.seq });
  return { commit, created, head, headMoved: moved };
}

