import { Duration, Validations } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { QueueDefinition } from '#shared/resources';

/** A queue, its dead-letter queue and the key both are encrypted with. */
export interface WorkQueue {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly key: kms.Key;
}

/**
 * Builds a capability's work queue in `scope` (as `QueueKey`, `DeadLetterQueue` and `Queue`) from
 * its plain definition in layers/shared/resources.ts, the one the local runtime builds from too.
 * Each capability's queues get a key of their own: sharing the data bucket's key ties the bucket
 * notification and the queue policy into a dependency cycle. Conflicting settings throw at synth.
 */
export function createWorkQueue(scope: Construct, name: string, settings: QueueDefinition): WorkQueue {
  if (settings.visibilityTimeoutSeconds < settings.consumerTimeoutSeconds) {
    throw new Error(
      `${name} queue visibility timeout (${settings.visibilityTimeoutSeconds}s) must be at least the consumer timeout (${settings.consumerTimeoutSeconds}s)`,
    );
  }
  const key = new kms.Key(scope, 'QueueKey', { description: `Symbiont ${name} queues`, enableKeyRotation: true });
  const deadLetterQueue = new sqs.Queue(scope, 'DeadLetterQueue', {
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: key,
    enforceSSL: true,
    retentionPeriod: Duration.days(settings.dlqRetentionDays),
  });
  Validations.of(deadLetterQueue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: `This is the dead-letter queue of the ${name} queue; Symbiont redrives it with its own mover.`,
  });
  const queue = new sqs.Queue(scope, 'Queue', {
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: key,
    enforceSSL: true,
    visibilityTimeout: Duration.seconds(settings.visibilityTimeoutSeconds),
    deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: settings.maxReceiveCount },
  });
  return { queue, deadLetterQueue, key };
}
