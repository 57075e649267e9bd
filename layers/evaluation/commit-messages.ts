import { JSONStringified } from '@aws-lambda-powertools/parser/helpers';
import { SqsRecordSchema } from '@aws-lambda-powertools/parser/schemas';
import type { SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { commitRecordSchema } from '#store/commits';
import { InvalidEvaluationMessageError } from './errors.ts';

/**
 * What the commit queue carries (DESIGN.md "Messages"): commit events — a GitHub push through the
 * webhook, or a commit CI reported with `POST /commits` — and new dataset versions, announced by
 * ingest once a version is published. `plan-evaluations` turns each into evaluation requests.
 */

const isoTime = z.iso.datetime({ offset: true });

/** `{repository, sha, branch, pushedAt, source, deliveryId?, image?, reportedBy?}`: a commit as it is recorded, before it is. */
export const commitMessageSchema = z.strictObject(commitRecordSchema.omit({ recordedAt: true }).shape);
export type CommitMessage = z.infer<typeof commitMessageSchema>;

/** A dataset version that was just published: its default-branch commit sets are evaluated on it. */
export const dataVersionMessageSchema = z.strictObject({
  dataset: z.string().min(1),
  version: z.number().int().positive(),
  publishedAt: isoTime,
});
export type DataVersionMessage = z.infer<typeof dataVersionMessageSchema>;

export const intakeMessageSchema = z.union([commitMessageSchema, dataVersionMessageSchema]);
export type IntakeMessage = z.infer<typeof intakeMessageSchema>;

/** Whether a commit-queue message announces a dataset version (rather than a commit). */
export function isDataVersionMessage(message: IntakeMessage): message is DataVersionMessage {
  return 'dataset' in message;
}

const intakeSqsRecordSchema = SqsRecordSchema.extend({ body: JSONStringified(intakeMessageSchema) });

/** The message of a commit-queue record, or {@link InvalidEvaluationMessageError} naming what is wrong. */
export function parseIntakeRecord(record: SQSRecord): IntakeMessage {
  const parsed = intakeSqsRecordSchema.safeParse(record);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(record)'}: ${issue.message}`);
    throw new InvalidEvaluationMessageError(`commit-queue message ${record.messageId} is neither a commit event nor a dataset version: ${problems.join('; ')}`, { problems });
  }
  return parsed.data.body;
}
