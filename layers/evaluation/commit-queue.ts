import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { intakeMessageSchema, type IntakeMessage } from './commit-messages.ts';

/** Where commit events and new dataset versions go: the commit queue (tests hand in their own). */
export interface CommitQueue {
  send(message: IntakeMessage): Promise<void>;
}

/** The commit queue on SQS (fauxqs locally). The message is validated before it is sent. */
export function sqsCommitQueue(sqs: SQSClient, queueUrl: string): CommitQueue {
  return {
    async send(message) {
      const body = intakeMessageSchema.parse(message);
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(body) }));
    },
  };
}
