import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as eventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { reportObjects } from '#reports/objects';
import { env, evaluation as evaluationLayout, queues, type QueueDefinition } from '#shared/resources';
import { SymbiontFunction } from './function.ts';
import { acknowledge, arnWildcardFinding } from './nag.ts';
import type { Storage } from './storage.ts';
import { createWorkQueue } from './work-queue.ts';

export interface ReportsProps {
  /** Table and data bucket templates and reports live in. */
  readonly storage: Storage;
  /** Absolute path of the validated config file. */
  readonly configFile: string;
  /** Queue settings. @default queues.report of layers/shared/resources.ts */
  readonly queue?: QueueDefinition;
  /** Memory of `render-report`. @default 2048 */
  readonly memorySize?: number;
}

/** Where dataset version files are; a report's `dataset_url` is a presigned GET of one. */
const DATASET_PREFIX = 'datasets/';

/**
 * Reports: the report queue (with its DLQ) and `render-report`, which consumes it one report at a
 * time — template notebook in, parameters injected, executed, stored as `reports/<id>/report.ipynb`
 * and `report.html`. The function runs the same renderer as the local runtime, but the Lambda
 * runtime has no Jupyter kernel: until the report container of Issue 16 executes notebooks, a
 * report rendered in AWS fails with a message naming what to install instead of pretending to
 * succeed.
 */
export class Reports extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly queueKey: kms.Key;
  public readonly renderer: SymbiontFunction;

  constructor(scope: Construct, id: string, props: ReportsProps) {
    super(scope, id);
    const settings = props.queue ?? queues.report;
    const { storage } = props;

    const work = createWorkQueue(this, 'report', settings);
    this.queue = work.queue;
    this.deadLetterQueue = work.deadLetterQueue;
    this.queueKey = work.key;

    this.renderer = new SymbiontFunction(this, 'RenderReport', {
      name: 'render-report',
      configFile: props.configFile,
      timeout: Duration.seconds(settings.consumerTimeoutSeconds),
      memorySize: props.memorySize ?? 2048,
      environment: {
        [env.tableName]: storage.table.tableName,
        [env.dataBucket]: storage.dataBucket.bucketName,
      },
    });
    const fn = this.renderer.function;
    fn.addEventSource(new eventSources.SqsEventSource(this.queue, { batchSize: settings.batchSize, reportBatchItemFailures: true }));
    // The report; the dataset version, the evaluation and its baseline it is about.
    storage.grantTable(fn, 'GetItem', 'UpdateItem', 'Query');
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadTemplatesAndInputs',
        actions: ['s3:GetObject'],
        // Dataset files are read only through the presigned URL handed to the notebook, signed by this role.
        resources: [
          storage.dataBucket.arnForObjects(`${reportObjects.templatePrefix}*`),
          storage.dataBucket.arnForObjects(`${DATASET_PREFIX}*`),
          storage.dataBucket.arnForObjects(`${evaluationLayout.outputPrefix}*`),
        ],
      }),
    );
    fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'WriteReports', actions: ['s3:PutObject'], resources: [storage.dataBucket.arnForObjects(`${reportObjects.reportPrefix}*`)] }));
    fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'UseDataKey', actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'], resources: [storage.dataKey.keyArn] }));
    acknowledge(
      this.renderer.role,
      'Templates, dataset versions, evaluation outputs and reports are keyed by names and ids made at run time: reads end in templates/*, datasets/* and evaluations/*, writes (PutObject only) in reports/*.',
      arnWildcardFinding(storage.dataBucket, `/${reportObjects.templatePrefix}*`),
      arnWildcardFinding(storage.dataBucket, `/${DATASET_PREFIX}*`),
      arnWildcardFinding(storage.dataBucket, `/${evaluationLayout.outputPrefix}*`),
      arnWildcardFinding(storage.dataBucket, `/${reportObjects.reportPrefix}*`),
    );
  }

  /**
   * Lets the API register templates and request and read reports: the table writes, storing
   * template notebooks, reading (presigning) reports, and sending to the report queue.
   */
  grantRequests(api: SymbiontFunction, storage: Storage): void {
    const fn = api.function;
    storage.grantTable(fn, 'PutItem', 'UpdateItem');
    fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'StoreTemplates', actions: ['s3:PutObject'], resources: [storage.dataBucket.arnForObjects(`${reportObjects.templatePrefix}*`)] }));
    fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'PresignReports', actions: ['s3:GetObject'], resources: [storage.dataBucket.arnForObjects(`${reportObjects.reportPrefix}*`)] }));
    fn.addToRolePolicy(new iam.PolicyStatement({ sid: 'UseDataKeyForReports', actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'], resources: [storage.dataKey.keyArn] }));
    iam.Grant.addToPrincipal({ grantee: fn, actions: ['sqs:SendMessage'], resourceArns: [this.queue.queueArn] });
    iam.Grant.addToPrincipal({ grantee: fn, actions: ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:Decrypt'], resourceArns: [this.queueKey.keyArn] });
    fn.addEnvironment(env.reportQueueUrl, this.queue.queueUrl);
    acknowledge(
      api.role,
      'Template notebooks and reports are keyed by names and ids made at run time: the API stores notebooks under templates/* (PutObject only) and presigns GETs under reports/* (GetObject only).',
      arnWildcardFinding(storage.dataBucket, `/${reportObjects.templatePrefix}*`),
      arnWildcardFinding(storage.dataBucket, `/${reportObjects.reportPrefix}*`),
    );
  }
}
