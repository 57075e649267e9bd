import { JSONStringified } from '@aws-lambda-powertools/parser/helpers';
import { SqsRecordSchema } from '@aws-lambda-powertools/parser/schemas';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { InvalidReportMessageError } from './errors.ts';

/** The report message (DESIGN.md "Messages"): the report is recorded before it is queued. */
export const reportMessageSchema = z.strictObject({
  reportId: z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, 'a report id is a 26-character ULID'),
});
export type ReportMessage = z.infer<typeof reportMessageSchema>;

const reportSqsRecordSchema = SqsRecordSchema.extend({ body: JSONStringified(reportMessageSchema) });

/** The message of a report-queue record, or {@link InvalidReportMessageError} naming what is wrong. */
export function parseReportRecord(record: SQSRecord): ReportMessage {
  const parsed = reportSqsRecordSchema.safeParse(record);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(record)'}: ${issue.message}`);
    throw new InvalidReportMessageError(`report-queue message ${record.messageId} is not a report message: ${problems.join('; ')}`, { problems });
  }
  return parsed.data.body;
}

/** Where report messages go: the report queue (tests hand in their own). */
export interface ReportQueue {
  send(message: ReportMessage): Promise<void>;
}

/** The report queue on SQS (fauxqs locally); the message is validated before it is sent. */
export function sqsReportQueue(sqs: SQSClient, queueUrl: string): ReportQueue {
  return {
    async send(message) {
      const body = reportMessageSchema.parse(message);
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(body) }));
    },
  };
}
