import { describe, expect, it } from 'vitest';
import { createApi } from '#api/api';
import type { ApiStore } from '#api/route';
import type { EvaluationService } from '#evaluation/service';
import { ReportNotFoundError } from '#reports/errors';
import type { ReportService, ReportView } from '#reports/service';
import type { EvaluationRecord } from '#store/evaluations';
import { bearer, config, json, localAuthenticator, MemoryUploads, request } from './api-fixtures.ts';
import { EVALUATION_ID, evaluationRecord } from './evaluation-record-fixtures.ts';

/**
 * GET /evaluations/{id} and a regression's diagnostic report: the evaluation recorded the link when
 * the report was queued; the route shows the report as it stands now, with its HTML once rendered.
 */

const evaluationId = EVALUATION_ID;
const reportId = '01JH2QZZZZZZZZZZZZZZZZZZZ1';

const evaluation = (report: EvaluationRecord['report']): EvaluationRecord => evaluationRecord({ regressed: true, verdict: 'regressed', ...(report ? { report } : {}) });

function apiWith(record: EvaluationRecord, report?: ReportView | Error) {
  const evaluations = { getEvaluation: async () => record } as unknown as EvaluationService;
  const reports = report
    ? ({
        getReport: async () => {
          if (report instanceof Error) throw report;
          return report;
        },
      } as unknown as ReportService)
    : undefined;
  return createApi({ store: new MemoryUploads() as ApiStore, config, authenticator: localAuthenticator, evaluations, ...(reports ? { reports } : {}) });
}

const view = (overrides: Partial<ReportView>): ReportView => ({
  reportId,
  template: 'diagnose',
  templateKey: 'templates/diagnose/x.ipynb',
  templateSha256: 'd'.repeat(64),
  parameters: {},
  evaluationId,
  hideCode: true,
  status: 'queued',
  requestedBy: 'symbiont:diagnostics',
  createdAt: '2025-01-06T09:00:00.000Z',
  updatedAt: '2025-01-06T09:00:00.000Z',
  attempts: 0,
  ...overrides,
});

const get = async (api: ReturnType<typeof createApi>) => json(await api.handle(request('GET', `/evaluations/${evaluationId}`, bearer('scientist'))));

describe('GET /evaluations/{id} with a diagnostic report', () => {
  it('shows the rendered report’s status and a presigned URL of its HTML', async () => {
    // Prepare
    const api = apiWith(
      evaluation({ status: 'queued', reportId, template: 'diagnose' }),
      view({ status: 'succeeded', htmlKey: 'reports/x/report.html', urls: { html: 'https://bucket.test/reports/x/report.html?sig', expiresAt: '2025-01-06T10:00:00.000Z' } }),
    );

    // Act
    const shown = await get(api);

    // Assess
    expect(shown.report).toEqual({ status: 'succeeded', reportId, template: 'diagnose', html: 'https://bucket.test/reports/x/report.html?sig', expiresAt: '2025-01-06T10:00:00.000Z' });
  });

  it('shows why the report’s notebook failed, with its cell', async () => {
    // Prepare
    const api = apiWith(evaluation({ status: 'queued', reportId, template: 'diagnose' }), view({ status: 'failed', error: { name: 'KeyError', message: "'forecast'", cell: 9 } }));

    // Act
    const shown = await get(api);

    // Assess
    expect(shown.report).toMatchObject({ status: 'failed', reportId, reason: "KeyError: 'forecast' (cell 9)" });
    expect(shown.report.html).toBeUndefined();
  });

  it('shows the link as recorded when the report is gone or could not be made', async () => {
    // Prepare
    const gone = apiWith(evaluation({ status: 'queued', reportId, template: 'diagnose' }), new ReportNotFoundError('no report'));
    const unmade = apiWith(evaluation({ status: 'failed', template: 'diagnose', reason: 'no template is named diagnose' }));

    // Act
    const [first, second] = [await get(gone), await get(unmade)];

    // Assess
    expect(first.report).toEqual({ status: 'queued', reportId, template: 'diagnose' });
    expect(second.report).toEqual({ status: 'failed', template: 'diagnose', reason: 'no template is named diagnose' });
  });
});
