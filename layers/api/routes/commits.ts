import { CapabilityUnavailableError } from '../errors.ts';
import { defineRoute, Reply, type ApiDependencies, type Route } from '../route.ts';
import { commitPageSchema, listCommitsQuerySchema, reportCommitBodySchema, reportedCommitSchema, repositoryListSchema } from '../schemas.ts';
import type { EvaluationService } from '#evaluation/service';

/**
 * Commits: CI (or a scientist) reports a commit with `POST /commits`; one on the repository's
 * default branch moves its head, which is what an evaluation request evaluates by default and
 * compares with. `GET /repositories` shows the heads.
 */
export const commitRoutes: readonly Route[] = [
  defineRoute({
    method: 'post',
    path: '/commits',
    operationId: 'reportCommit',
    summary: 'Records a commit (one on the default branch moves the repository’s head) and queues it: every pipeline using the repository gets an evaluation request.',
    description:
      'Reporting the same commit again records nothing new and queues it again, which asks for nothing twice (the same evaluation finds the earlier request). ' +
      'A push older than the head’s does not move it back.',
    tags: ['commits'],
    access: ['admin', 'scientist'],
    request: { body: reportCommitBodySchema },
    response: { status: 201, description: 'The commit, as recorded, and the head after it.', schema: reportedCommitSchema },
    handle: async ({ body }, { caller, deps }) => {
      const reported = await evaluations(deps).reportCommit(body, caller);
      return new Reply({ ...reported, ...(reported.head ? { head: reported.head } : {}) }, reported.created ? 201 : 200);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/commits',
    operationId: 'listCommits',
    summary: 'Lists a repository’s commits, newest push first, each with the verdicts of its newest evaluations.',
    tags: ['commits'],
    access: ['admin', 'scientist'],
    request: { query: listCommitsQuerySchema },
    response: { description: 'One page of commits.', schema: commitPageSchema },
    handle: async ({ query }, { deps }) => {
      const page = await evaluations(deps).listCommits(query.repository, { limit: query.limit, cursor: query.cursor });
      return {
        items: page.items.map(({ evaluations: found, ...commit }) => ({
          ...commit,
          evaluations: found.map((e) => ({
            evaluationId: e.evaluationId,
            requestId: e.requestId,
            pipeline: e.pipeline,
            dataset: e.dataset,
            version: e.version,
            parameters: e.parameters,
            status: e.status,
            ...(e.verdict ? { verdict: e.verdict } : {}),
            ...(e.regressed !== undefined ? { regressed: e.regressed } : {}),
            ...(e.reason ? { reason: e.reason } : {}),
            createdAt: e.createdAt,
          })),
        })),
        ...(page.cursor ? { cursor: page.cursor } : {}),
      };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/repositories',
    operationId: 'listRepositories',
    summary: 'Lists the configured repositories and their default-branch heads.',
    tags: ['commits'],
    access: ['admin', 'scientist'],
    response: { description: 'Every repository of the config.', schema: repositoryListSchema },
    handle: async (_input, { deps }) => ({ items: await evaluations(deps).heads() }),
  }),
];

/** The evaluation service, or a 503 where the API was built without it. */
export function evaluations(deps: ApiDependencies): EvaluationService {
  if (!deps.evaluations) throw new CapabilityUnavailableError('commits and evaluations are not available from this API');
  return deps.evaluations;
}
