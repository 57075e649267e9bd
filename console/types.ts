/** The API's shapes, as the schemas the router validates with define them (types only: nothing of zod is bundled). */
export type {
  Dataset,
  DatasetList,
  DatasetVersion,
  DatasetVersionPage,
  SftpUser,
  Upload,
  UploadListItem,
  UploadPage,
  UploadReport,
  VersionDownload,
} from '#api/schemas';
export type { ConsoleConfig, Me } from '#api/console-schemas';
export type { Comparison, Evaluation, EvaluationArtifacts, EvaluationRequest } from '#api/schemas';

import type { z } from 'zod';
import type { cancelledRequestSchema, evaluationPageSchema, metricComparisonSchema, repositoryListSchema, requestedEvaluationSchema } from '#api/schemas';
export type EvaluationPage = z.infer<typeof evaluationPageSchema>;
export type MetricComparison = z.infer<typeof metricComparisonSchema>;
export type RepositoryList = z.infer<typeof repositoryListSchema>;
export type CancelledRequest = z.infer<typeof cancelledRequestSchema>;
export type RequestedEvaluation = z.infer<typeof requestedEvaluationSchema>;
export type { Trend } from '#api/schemas';
export type { Report, Template } from '#api/report-schemas';
