import { Duration, RemovalPolicy, Size } from 'aws-cdk-lib';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as eventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { reportObjects } from '#reports/objects';
import { env, evaluation as evaluationLayout, queues, type QueueDefinition } from '#shared/resources';
import { reportImageContext } from '../../reports/image.ts';
import { acknowledgeXrayWrites, type SymbiontFunction } from './function.ts';
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
  /** Memory of `render-report` (the kernel, pandas and matplotlib share it). @default 3008 */
  readonly memorySize?: number;
  /** Disk under /tmp of `render-report`, in MiB. @default 2048 */
  readonly ephemeralStorageMiB?: number;
}

/** Where dataset version files are; a report's `dataset_url` is a presigned GET of one. */
const DATASET_PREFIX = 'datasets/';

/**
 * Reports: the report queue (with its DLQ) and `render-report`, the report executor, which consumes
 * it one report at a time — template notebook in, parameters injected, executed on a Jupyter
 * kernel, stored as `reports/<id>/report.ipynb` and `report.html`.
 *
 * `render-report` is a Lambda function packaged as a container image (reports/Dockerfile): the
 * Lambda Node.js 22 base image with Python 3, nbclient, ipykernel, pandas and matplotlib, running
 * the same bundled handler as the local runtime — the same injection, executor, renderer and
 * storage. The image is staged at synth (no Docker needed) and built by `cdk deploy`. A zip
 * function could not run a kernel (the Node.js runtime has no Python), and every report runs one,
 * so there is no zip renderer beside it.
 */
export class Reports extends Construct {
  public readonly queue: sqs.Queue;
  public readonly deadLetterQueue: sqs.Queue;
  public readonly queueKey: kms.Key;
  /** The report executor: `render-report` as a container image function. */
  public readonly renderer: ReportExecutor;

  constructor(scope: Construct, id: string, props: ReportsProps) {
    super(scope, id);
    const settings = props.queue ?? queues.report;
    const { storage } = props;

    const work = createWorkQueue(this, 'report', settings);
    this.queue = work.queue;
    this.deadLetterQueue = work.deadLetterQueue;
    this.queueKey = work.key;

    this.renderer = new ReportExecutor(this, 'RenderReport', {
      configFile: props.configFile,
      timeout: Duration.seconds(settings.consumerTimeoutSeconds),
      memorySize: props.memorySize ?? 3008,
      ephemeralStorageMiB: props.ephemeralStorageMiB ?? 2048,
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
    // A diagnostic lists the stage outputs of the evaluation and its baseline to hand the notebook their URLs.
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ListEvaluationOutputs',
        actions: ['s3:ListBucket'],
        resources: [storage.dataBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${evaluationLayout.outputPrefix}*`] } },
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
   * Lets `evaluation-tasks` make the diagnostic reports of regressions: record them (the table
   * grants it has already) and send them to the report queue.
   */
  grantDiagnostics(tasks: SymbiontFunction): void {
    const fn = tasks.function;
    iam.Grant.addToPrincipal({ grantee: fn, actions: ['sqs:SendMessage'], resourceArns: [this.queue.queueArn] });
    iam.Grant.addToPrincipal({ grantee: fn, actions: ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:Decrypt'], resourceArns: [this.queueKey.keyArn] });
    fn.addEnvironment(env.reportQueueUrl, this.queue.queueUrl);
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

export interface ReportExecutorProps {
  /** Absolute path of the validated config file, copied into the image. */
  readonly configFile: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly ephemeralStorageMiB: number;
  readonly environment: Record<string, string>;
}

/**
 * `render-report` as a container image function: built from reports/Dockerfile with the bundled
 * handler, its own role (its log group only; every other grant added by {@link Reports}), its
 * own log group and active X-Ray tracing, as {@link SymbiontFunction} makes them for zip functions.
 */
export class ReportExecutor extends Construct {
  public readonly function: lambda.DockerImageFunction;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;
  /** The image: staged at synth, built and pushed to the CDK assets repository by `cdk deploy`. */
  public readonly image: ecrAssets.DockerImageAsset;

  constructor(scope: Construct, id: string, props: ReportExecutorProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    this.role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), description: 'Symbiont render-report function (report executor container)' });
    this.role.addToPolicy(new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [this.logGroup.logGroupArn] }));
    this.image = new ecrAssets.DockerImageAsset(this, 'Image', {
      directory: reportImageContext(props.configFile),
      platform: ecrAssets.Platform.LINUX_AMD64,
      displayName: 'Symbiont report executor',
    });
    this.function = new lambda.DockerImageFunction(this, 'Function', {
      code: lambda.DockerImageCode.fromEcr(this.image.repository, { tagOrDigest: this.image.imageTag }),
      architecture: lambda.Architecture.X86_64,
      memorySize: props.memorySize,
      ephemeralStorageSize: Size.mebibytes(props.ephemeralStorageMiB),
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: lambda.Tracing.ACTIVE,
      environment: { POWERTOOLS_SERVICE_NAME: 'symbiont-render-report', ...props.environment },
    });
    acknowledgeXrayWrites(this.role);
  }
}
