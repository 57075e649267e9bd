import { BUILT_IN_PARAMETERS } from '#reports/built-ins';
import type { ReportService } from '#reports/service';
import type { TemplateRecord } from '#store/reports';
import { CapabilityUnavailableError } from '../errors.ts';
import { defineRoute, Reply, type ApiDependencies, type Route } from '../route.ts';
import {
  createdReportsSchema,
  createReportBodySchema,
  listReportsQuerySchema,
  registeredTemplateSchema,
  reportIdParamsSchema,
  reportPageSchema,
  reportSchema,
  templateBodySchema,
  templateListSchema,
  templateParamsSchema,
  templateQuerySchema,
  templateSchema,
} from '../report-schemas.ts';

/**
 * Report templates (Jupyter notebooks with a `parameters` cell) and reports (a template rendered
 * with parameters, for a dataset version or an evaluation). Admins and scientists register
 * templates, request reports and read both; rendering happens on the report queue.
 */
const writers = ['admin', 'scientist'] as const;

export const reportRoutes: readonly Route[] = [
  defineRoute({
    method: 'put',
    path: '/templates/{name}',
    operationId: 'putTemplate',
    summary: 'Registers a notebook as a report template (or a new revision of one).',
    description:
      'The body is the notebook (nbformat 4). It is checked against the nbformat schema, and its parameters are read from the cell tagged `parameters`, as papermill reads them. Registering the same notebook again changes nothing.',
    tags: ['reports'],
    access: writers,
    request: { params: templateParamsSchema, query: templateQuerySchema, body: templateBodySchema },
    response: { status: 201, description: 'The template as registered.', schema: registeredTemplateSchema },
    handle: async ({ params, query, body }, { caller, deps }) => {
      const { template, created, changed } = await reports(deps).putTemplate(params.name, body, { by: caller.name, source: 'api', ...(query.description ? { description: query.description } : {}) });
      return new Reply({ template: shown(template), created, changed }, created ? 201 : 200);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/templates/{name}',
    operationId: 'getTemplate',
    summary: 'Shows a template and the parameters it declares (like `papermill --help-notebook`).',
    tags: ['reports'],
    access: writers,
    request: { params: templateParamsSchema },
    response: { description: 'The template.', schema: templateSchema },
    errors: [404],
    handle: async ({ params }, { deps }) => shown(await reports(deps).getTemplate(params.name)),
  }),
  defineRoute({
    method: 'get',
    path: '/templates',
    operationId: 'listTemplates',
    summary: 'Lists the registered templates.',
    tags: ['reports'],
    access: writers,
    response: { description: 'Every template, by name.', schema: templateListSchema },
    handle: async (_input, { deps }) => ({ items: (await reports(deps).listTemplates()).map(shown) }),
  }),
  defineRoute({
    method: 'post',
    path: '/reports',
    operationId: 'createReports',
    summary: 'Requests reports: a template rendered with parameters, once per dataset version named.',
    description:
      'Answers at once with the recorded reports (status `queued`); rendering runs on the report queue. Parameters are checked against the template: unknown names and wrong types are refused, naming them.',
    tags: ['reports'],
    access: writers,
    request: { body: createReportBodySchema },
    response: { status: 202, description: 'The reports, recorded and queued.', schema: createdReportsSchema },
    errors: [404],
    handle: async ({ body }, { caller, deps }) => new Reply({ reports: await reports(deps).createReports(body, caller.name) }, 202),
  }),
  defineRoute({
    method: 'get',
    path: '/reports',
    operationId: 'listReports',
    summary: 'Lists reports, newest first, a page at a time.',
    tags: ['reports'],
    access: writers,
    request: { query: listReportsQuerySchema },
    response: { description: 'One page of reports.', schema: reportPageSchema },
    handle: async ({ query }, { deps }) => reports(deps).listReports(query),
  }),
  defineRoute({
    method: 'get',
    path: '/reports/{id}',
    operationId: 'getReport',
    summary: 'Shows a report: its status, why it failed, and presigned URLs of its HTML and notebook.',
    tags: ['reports'],
    access: writers,
    request: { params: reportIdParamsSchema },
    response: { description: 'The report.', schema: reportSchema },
    errors: [404],
    handle: async ({ params }, { deps }) => reports(deps).getReport(params.id.toUpperCase()),
  }),
];

function shown(template: TemplateRecord) {
  return { ...template, builtIns: [...BUILT_IN_PARAMETERS] };
}

function reports(deps: ApiDependencies): ReportService {
  if (!deps.reports) throw new CapabilityUnavailableError('reports are not available from this API');
  return deps.reports;
}
