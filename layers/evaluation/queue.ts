import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { evaluationMessageSchema, type EvaluationMessage } from './messages.ts';

/** Where evaluation messages go: the evaluation queue (tests hand in their own). */
export interface EvaluationQueue {
  send(message: EvaluationMessage): Promise<void>;
}

/** The evaluation queue on SQS (fauxqs locally). The message is validated before it is sent. */
export function sqsEvaluationQueue(sqs: SQSClient, queueUrl: string): EvaluationQueue {
  return {
    async send(message) {
      const body = evaluationMessageSchema.parse(message);
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(body) }));
    },
  };
}
