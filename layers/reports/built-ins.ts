import type { SymbiontConfig } from '#config/schema';
import type { EvaluationComparison } from '#evaluation/service';
import type { ReportRecord } from '#store/reports';
import type { VersionRecord } from '#store/versions';

/**
 * Built-in parameters: what a report needs to know about the dataset version and the evaluation
 * it is about, injected beside the request's own parameters so that a notebook reads its data
 * without knowing buckets, credentials or the table. They are set when the report renders (the
 * presigned URL is fresh then) and may not be given by a request.
 */
export const BUILT_IN_PARAMETERS = [
  'dataset_name',
  'dataset_version',
  'dataset_url',
  'dataset_format',
  'dataset_metadata',
  'dataset_profile',
  'evaluation_id',
  'evaluation',
  'evaluation_scores',
  'baseline_scores',
  'comparison',
  'evaluation_outputs',
  'baseline_outputs',
] as const;

/** Stage outputs by stage name, then by file (relative to the stage's output folder): presigned GET URLs. */
export type StageOutputs = Record<string, Record<string, string>>;

/** What the built-ins are made from, looked up by the renderer. */
export interface BuiltInSources {
  readonly version?: VersionRecord;
  /** A presigned GET URL of the version's file, valid while the report renders. */
  readonly datasetUrl?: string;
  readonly comparison?: EvaluationComparison;
  /** The first repeat's stage outputs of the evaluation and of its baseline. */
  readonly outputs?: { readonly evaluation: StageOutputs; readonly baseline?: StageOutputs };
}

/** The built-in parameters of a report, by name (only those its inputs provide). */
export function builtInParameters(report: Pick<ReportRecord, 'dataset' | 'evaluationId'>, sources: BuiltInSources, config: Pick<SymbiontConfig, 'datasets'>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  const version = sources.version;
  if (report.dataset && version) {
    const spec = config.datasets[version.dataset];
    values.dataset_name = version.dataset;
    values.dataset_version = version.version;
    values.dataset_url = sources.datasetUrl ?? null;
    values.dataset_format = spec?.format ?? null;
    values.dataset_metadata = {
      dataset: version.dataset,
      version: version.version,
      file: version.file,
      key: version.key,
      sha256: version.sha256,
      bytes: version.bytes,
      rows: version.rows,
      spec_revision: version.specRevision,
      sender: version.sender ?? null,
      created_at: version.createdAt ?? version.reservedAt,
      columns: (spec?.columns ?? []).map((c) => ({ name: c.name, type: c.type, nullable: c.nullable ?? false })),
    };
    values.dataset_profile = version.profile;
  }
  const comparison = sources.comparison;
  if (report.evaluationId && comparison) {
    const { head, base } = comparison;
    const means = (scores: typeof head.scores) => (scores ? Object.fromEntries(Object.entries(scores).map(([metric, score]) => [metric, score.mean])) : null);
    values.evaluation_id = head.evaluationId;
    values.evaluation = {
      id: head.evaluationId,
      pipeline: head.pipeline,
      status: head.status,
      dataset: head.dataset,
      version: head.version,
      commit_set: head.commitSet,
      parameters: head.parameters,
      baseline_id: base?.evaluationId ?? null,
    };
    values.evaluation_scores = means(head.scores);
    values.baseline_scores = base ? means(base.scores) : null;
    values.comparison = { verdict: comparison.verdict, regressed: comparison.regressed, metrics: comparison.metrics };
    values.evaluation_outputs = sources.outputs?.evaluation ?? {};
    values.baseline_outputs = base ? (sources.outputs?.baseline ?? {}) : null;
  }
  return values;
}
