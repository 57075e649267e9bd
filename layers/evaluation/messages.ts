import { JSONStringified } from '@aws-lambda-powertools/parser/helpers';
import { SqsRecordSchema } from '@aws-lambda-powertools/parser/schemas';
import type { SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { commitSetSchema, datasetVersionRefSchema, evaluationReasons, parameterPointSchema, triggerSchema, ulidSchema } from '#store/evaluations';
import { InvalidEvaluationMessageError } from './errors.ts';

/**
 * The evaluation message (DESIGN.md "Messages"): one per part of a request, sent after the request
 * is recorded. `start-evaluation` starts the part's execution under `executionName`.
 */
export const evaluationMessageSchema = z.object({
  requestId: ulidSchema,
  part: z.number().int().positive().default(1),
  parts: z.number().int().positive().default(1),
  pipeline: z.string().min(1),
  commitSets: z.array(commitSetSchema).min(1),
  datasetVersions: z.array(datasetVersionRefSchema).min(1),
  parameterPoints: z.array(parameterPointSchema).min(1),
  repeats: z.number().int().positive(),
  reason: z.enum(evaluationReasons),
  trigger: triggerSchema.optional(),
  baselineCommitSet: commitSetSchema.optional(),
  executionName: z.string().min(1).max(80),
});
export type EvaluationMessage = z.infer<typeof evaluationMessageSchema>;

/** The input of an execution: enough to find the request; the tasks read the rest from the table. */
export const executionInputSchema = z.object({
  requestId: ulidSchema,
  part: z.number().int().positive(),
  pipeline: z.string().min(1),
  executionName: z.string().min(1),
});
export type ExecutionInput = z.infer<typeof executionInputSchema>;

const evaluationSqsRecordSchema = SqsRecordSchema.extend({ body: JSONStringified(evaluationMessageSchema) });

/** The message of an evaluation-queue record, or {@link InvalidEvaluationMessageError} naming what is wrong. */
export function parseEvaluationRecord(record: SQSRecord): EvaluationMessage {
  const parsed = evaluationSqsRecordSchema.safeParse(record);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(record)'}: ${issue.message}`);
    throw new InvalidEvaluationMessageError(`evaluation-queue message ${record.messageId} is not an evaluation message: ${problems.join('; ')}`, { problems });
  }
  return parsed.data.body;
}
