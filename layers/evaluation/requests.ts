import { ulid } from 'ulid';
import type { PipelineSpec, SymbiontConfig } from '#config/schema';
import { ForbiddenError } from '#shared/errors';
import { logger } from '#shared/observability';
import { commitShaSchema, findCommits, getRepositoryHead, listHeadHistory, moveRepositoryHead, recordCommit, type CommitRecord, type CommitSource, type HeadStep, type RepositoryHead } from '#store/commits';
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
  /**
   * A range of one repository's default-branch commits, in the order its head moved: `from`..`to`
   * (inclusive; `to` defaults to the head) or the `last` n. Each commit becomes a commit set (the
   * pipeline's other repositories at their heads), added to `commitSets`.
   */
  readonly commits?: CommitRange;
  /** Dataset versions; a version left out is the latest; `from`..`to` is every version between (`to`: the latest). @default the latest version of each of the pipeline's datasets */
  readonly datasetVersions?: readonly DatasetVersionChoice[];
  /** Parameter values that replace the pipeline's grid, per parameter: a list, or a range `{from, to, step}`. @default the pipeline's grid */
  readonly parameters?: Readonly<Record<string, ParameterValues>>;
  /** @default the pipeline's */
  readonly repeats?: number;
  /** @default `rerun` for a rerun, `backfill` with a commit or version range, `sweep` with a grid of several points given, else `manual` */
  readonly reason?: Exclude<EvaluationReason, 'rerun'>;
  /** The evaluation a rerun runs again (its request records it). */
  readonly rerunOf?: string;
  /** Run again what was asked before (admins only); otherwise asking again finds the earlier request. */
  readonly rerun?: boolean;
  /** What made the request: the commit pushed (reason `commit`) or the dataset version published (reason `data`). */
  readonly trigger?: EvaluationTrigger;
}

/** A range of default-branch commits of one repository. */
export interface CommitRange {
  readonly repository: string;
  readonly from?: string;
  readonly to?: string;
  readonly last?: number;
}

/** One dataset version, the latest (no version), or a range of versions. */
export type DatasetVersionChoice =
  | { readonly dataset: string; readonly version?: number }
  | { readonly dataset: string; readonly from: number; readonly to?: number };

/** A parameter's values: listed, or a numeric range (`to` included when the steps reach it). */
export type ParameterValues = readonly (string | number | boolean)[] | { readonly from: number; readonly to: number; readonly step?: number };

/** Values one parameter range may expand to. */
export const MAX_RANGE_VALUES = 1000;

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

  const ranged = input.commits ? await commitRange(input.commits, repositories, deps.table) : [];
  const given = [...(input.commitSets ?? []), ...ranged.map((sha) => ({ [input.commits!.repository]: sha }))];
  const commitSets = await Promise.all((given.length ? given : [{}]).map((set, i) => resolveCommitSet(set, i, repositories, heads, deps.table)));
  const datasetVersions = await resolveDatasetVersions(input, pipeline, deps.table);
  const parameterPoints = gridPoints(pipeline, expandParameters(input.parameters));
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
    reason: input.rerun ? 'rerun' : (input.reason ?? defaultReason(input, parameterPoints.length)),
    ...(input.rerunOf ? { rerunOf: input.rerunOf } : {}),
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

/** Why a request is made when it does not say: a backfill over ranges, a sweep over a grid given, else manual. */
function defaultReason(input: RequestEvaluationInput, parameterPoints: number): Exclude<EvaluationReason, 'rerun'> {
  if (input.commits || (input.commitSets?.length ?? 0) > 1 || input.datasetVersions?.some((d) => 'from' in d)) return 'backfill';
  if (input.parameters && Object.keys(input.parameters).length > 0 && parameterPoints > 1) return 'sweep';
  return 'manual';
}

/**
 * The shas of a range of default-branch commits, oldest first, from the repository's head history
 * (one Query): `from`..`to` inclusive (`to`: the head), or the `last` n. A short sha is matched
 * by prefix within the history.
 */
async function commitRange(range: CommitRange, repositories: readonly string[], table: Table): Promise<string[]> {
  if (!repositories.includes(range.repository)) {
    throw new InvalidEvaluationRequestError(`commits.repository ${range.repository} is not a repository of this pipeline (${repositories.join(', ')})`, { repository: range.repository });
  }
  if (range.last !== undefined && (range.from !== undefined || range.to !== undefined)) {
    throw new InvalidEvaluationRequestError('give commits.last, or commits.from (and commits.to), not both', { repository: range.repository });
  }
  if (range.last === undefined && range.from === undefined) {
    throw new InvalidEvaluationRequestError('commits needs last (the last n default-branch commits) or from (and optionally to)', { repository: range.repository });
  }
  if (range.last !== undefined) {
    const steps = await listHeadHistory(table, range.repository, { limit: range.last, order: 'desc' });
    if (steps.length === 0) throw new InvalidEvaluationRequestError(`repository ${range.repository} has no default-branch history yet: report its commits first`, { repository: range.repository });
    return distinctShas(steps.reverse());
  }
  const history = await listHeadHistory(table, range.repository, { order: 'asc' });
  const find = (sha: string, name: 'from' | 'to') => {
    const wanted = sha.toLowerCase();
    const matches = history.filter((step) => step.sha.startsWith(wanted));
    if (new Set(matches.map((m) => m.sha)).size > 1) throw new InvalidEvaluationRequestError(`commits.${name} ${sha} is ambiguous in ${range.repository}: give more digits`, { sha });
    if (matches.length === 0) {
      throw new UnknownCommitError(`commits.${name} ${sha} was never the default-branch head of ${range.repository}: a range follows the default branch's history`, {
        repository: range.repository,
        sha,
      });
    }
    return name === 'from' ? history.indexOf(matches[0]!) : history.lastIndexOf(matches.at(-1)!);
  };
  const start = find(range.from!, 'from');
  const end = range.to === undefined ? history.length - 1 : find(range.to, 'to');
  if (end < start) throw new InvalidEvaluationRequestError(`commits.to ${range.to} came before commits.from ${range.from} on the default branch`, { from: range.from, to: range.to });
  return distinctShas(history.slice(start, end + 1));
}

function distinctShas(steps: readonly HeadStep[]): string[] {
  return [...new Set(steps.map((step) => step.sha))];
}

/** Parameter values with every range expanded: `{from, to, step}` is from, from + step, … up to `to`. */
export function expandParameters(given: RequestEvaluationInput['parameters']): Record<string, readonly (string | number | boolean)[]> | undefined {
  if (!given) return undefined;
  return Object.fromEntries(
    Object.entries(given).map(([name, values]) => {
      if (Array.isArray(values)) return [name, values];
      const { from, to, step = 1 } = values as { from: number; to: number; step?: number };
      if (!(step > 0)) throw new InvalidEvaluationRequestError(`parameter ${name}: step must be above 0, not ${step}`, { parameter: name });
      if (to < from) throw new InvalidEvaluationRequestError(`parameter ${name}: to (${to}) is below from (${from})`, { parameter: name });
      const count = Math.floor((to - from) / step + 1e-9) + 1;
      if (count > MAX_RANGE_VALUES) throw new InvalidEvaluationRequestError(`parameter ${name}: the range has ${count} values; at most ${MAX_RANGE_VALUES}`, { parameter: name, count });
      // Rounded to the step's decimals, so 0.1 steps give 0.3, not 0.30000000000000004.
      const decimals = Math.max(decimalsOf(from), decimalsOf(step));
      return [name, Array.from({ length: count }, (_, i) => Number((from + i * step).toFixed(decimals)))];
    }),
  );
}

function decimalsOf(value: number): number {
  const text = String(value);
  return text.includes('e-') ? Number(text.split('e-')[1]) : (text.split('.')[1]?.length ?? 0);
}

async function resolveDatasetVersions(input: RequestEvaluationInput, pipeline: PipelineSpec, table: Table): Promise<DatasetVersionRef[]> {
  const wanted: readonly DatasetVersionChoice[] = input.datasetVersions?.length ? input.datasetVersions : pipeline.datasets.map((dataset) => ({ dataset }));
  const resolved: DatasetVersionRef[] = [];
  for (const choice of wanted) {
    const { dataset } = choice;
    if (!pipeline.datasets.includes(dataset)) {
      throw new InvalidEvaluationRequestError(`pipeline ${input.pipeline} is evaluated on ${pipeline.datasets.join(', ')}, not on ${dataset}`, { dataset });
    }
    if ('from' in choice) {
      const latest = await getLatestVersion(table, dataset);
      const to = choice.to ?? latest?.version ?? 0;
      if (to < choice.from) throw new InvalidEvaluationRequestError(`dataset ${dataset}: versions ${choice.from}..${to} is an empty range`, { dataset });
      for (let version = choice.from; version <= to; version++) {
        if (!(await getVersion(table, dataset, version))) throw new InvalidEvaluationRequestError(`dataset ${dataset} has no published version ${version}`, { dataset, version });
        resolved.push({ dataset, version });
      }
      continue;
    }
    const { version } = choice;
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
export function gridPoints(pipeline: Pick<PipelineSpec, 'parameters'>, given: Readonly<Record<string, readonly (string | number | boolean)[]>> = {}): ParameterPoint[] {
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

