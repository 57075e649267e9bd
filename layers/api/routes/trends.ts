import { defineRoute, type Route } from '../route.ts';
import { trendParamsSchema, trendQuerySchema, trendSchema } from '../schemas.ts';
import { evaluations } from './commits.ts';

/**
 * Trends: a metric of a pipeline over the default branch's heads (oldest first, on one dataset
 * version) and over dataset versions (at the newest head), with each point's baseline, tolerance
 * band and whether it was flagged — read by Query from the head history and the commits' links.
 */
export const trendRoutes: readonly Route[] = [
  defineRoute({
    method: 'get',
    path: '/pipelines/{name}/trend',
    operationId: 'getTrend',
    summary: 'Shows a metric over the default branch’s commits and over dataset versions, with baselines, tolerance bands and regressions.',
    tags: ['evaluations'],
    access: ['admin', 'scientist'],
    request: { params: trendParamsSchema, query: trendQuerySchema },
    response: { description: 'The trend, one series per parameter point.', schema: trendSchema },
    handle: async ({ params, query }, { deps }) => evaluations(deps).trend({ pipeline: params.name, ...query }),
  }),
];
