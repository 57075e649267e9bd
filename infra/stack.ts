import { dirname } from 'node:path';
import { CfnOutput, RemovalPolicies, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { StackSettings, SymbiontConfig } from '#config/schema';
import { apiRoutes } from '#api/api';
import { Api } from './constructs/api.ts';
import { CommitIntake } from './constructs/commit-intake.ts';
import { Evaluation } from './constructs/evaluation.ts';
import { GithubResults } from './constructs/github-results.ts';
import { Identity } from './constructs/identity.ts';
import { Ingest } from './constructs/ingest.ts';
import { acknowledge } from './constructs/nag.ts';
import { Operations } from './constructs/operations.ts';
import { Reports } from './constructs/reports.ts';
import { Sftp } from './constructs/sftp.ts';
import { Storage } from './constructs/storage.ts';

export interface SymbiontStackProps extends StackProps {
  /** The validated config. */
  readonly config: SymbiontConfig;
  /** Absolute path of the config file, bundled with each function. */
  readonly configFile: string;
  /** The knobs, after `cdk -c` overrides. @default config.stack */
  readonly settings?: StackSettings;
}

/** One Symbiont environment: one construct per capability, wired together here and nowhere else. */
export class SymbiontStack extends Stack {
  public readonly storage: Storage;
  public readonly ingest: Ingest;
  public readonly api: Api;
  /** Cognito: people in a browser get the API role of their group. */
  public readonly identity: Identity;
  /** The Transfer Family server and the config's users, when `sftp.enabled`. */
  public readonly sftp?: Sftp;
  public readonly evaluation: Evaluation;
  public readonly reports: Reports;
  public readonly commitIntake: CommitIntake;
  /** Alarms to an SNS topic (mailed to `alarmEmail`) and a dashboard. */
  public readonly operations: Operations;

  constructor(scope: Construct, id: string, props: SymbiontStackProps) {
    super(scope, id, props);
    const settings = props.settings ?? props.config.stack;
    Tags.of(this).add('symbiont:stage', settings.stage);
    // retainData=false is for stacks meant to be deleted: no key outlives them, the queues' keys included.
    if (!settings.retainData) RemovalPolicies.of(this).destroy({ applyToResourceTypes: ['AWS::KMS::Key'] });

    this.storage = new Storage(this, 'Storage', {
      retainData: settings.retainData,
      landingExpiryDays: settings.landingExpiryDays,
    });
    this.ingest = new Ingest(this, 'Ingest', { storage: this.storage, configFile: props.configFile });
    this.api = new Api(this, 'Api', {
      storage: this.storage,
      configFile: props.configFile,
      stage: settings.stage,
      routes: apiRoutes,
      uploaderDatasets: props.config.uploaderDatasets ?? Object.keys(props.config.datasets),
    });
    this.identity = new Identity(this, 'Identity', {
      roles: this.api.roles,
      stage: settings.stage,
      retain: settings.retainData,
      // The web console lives at the API's `/`; Cognito's managed login sends people back there.
      consoleUrl: `${this.api.httpApi.apiEndpoint}/`,
    });
    this.api.consoleSignIn({
      userPoolId: this.identity.userPool.userPoolId,
      clientId: this.identity.userPoolClient.userPoolClientId,
      identityPoolId: this.identity.identityPool.ref,
      authDomain: this.identity.authDomain!,
    });
    this.evaluation = new Evaluation(this, 'Evaluation', {
      storage: this.storage,
      configFile: props.configFile,
      stage: settings.stage,
      network: settings.evaluationNetwork,
    });
    // The API records commits and evaluation requests and queues them.
    this.evaluation.grantRequests(this.api.handler.function, this.storage);
    // …and cancels them: it stops their executions.
    this.evaluation.grantCancel(this.api.handler.function);
    this.reports = new Reports(this, 'Reports', { storage: this.storage, configFile: props.configFile });
    // The API registers templates and records and queues reports.
    this.reports.grantRequests(this.api.handler, this.storage);
    // A regression's diagnostic report is recorded and queued by the evaluation state machine's Diagnose task.
    this.reports.grantDiagnostics(this.evaluation.tasks);
    this.commitIntake = new CommitIntake(this, 'CommitIntake', {
      storage: this.storage,
      evaluation: this.evaluation,
      configFile: props.configFile,
      stage: settings.stage,
    });
    // The webhook route (public, HMAC-verified) and POST /commits queue commit events; ingest
    // announces each new dataset version there for re-evaluation.
    this.commitIntake.grantWebhook(this.api.handler.function);
    this.commitIntake.grantSend(this.ingest.handler.function);
    // Results back on GitHub: Finish posts commit statuses (and comments) with the token kept in Secrets Manager.
    new GithubResults(this, 'GithubResults', { stage: settings.stage, poster: this.evaluation.tasks.function, publicApiUrl: this.api.httpApi.apiEndpoint });

    // Admins see and redrive every work queue's DLQ through the API (`symbiont dlq`).
    this.api.manageDeadLetters('ingest', this.ingest);
    this.api.manageDeadLetters('evaluation', this.evaluation);
    this.api.manageDeadLetters('commit', this.commitIntake);
    this.api.manageDeadLetters('report', this.reports);

    if (settings.sftp.enabled) {
      // Transfer Family costs about $0.30 an hour even idle, hence the knob (DESIGN.md "The stack's knobs").
      this.sftp = new Sftp(this, 'Sftp', { storage: this.storage, users: props.config.sftpUsers, configDir: dirname(props.configFile) });
      this.ingest.routeTransferEvents(this.sftp.server.attrServerId);
      this.sftp.grantUserManagement(this.api.handler, this.storage);
    }

    this.operations = new Operations(this, 'Operations', {
      stage: settings.stage,
      alarmEmail: settings.alarmEmail,
      functions: {
        'ingest-upload': this.ingest.handler.function,
        api: this.api.handler.function,
        'start-evaluation': this.evaluation.starter.function,
        'evaluation-tasks': this.evaluation.tasks.function,
        'plan-evaluations': this.commitIntake.planner.function,
        'render-report': this.reports.renderer.function,
      },
      deadLetterQueues: {
        ingest: this.ingest.deadLetterQueue,
        evaluation: this.evaluation.deadLetterQueue,
        commit: this.commitIntake.deadLetterQueue,
        report: this.reports.deadLetterQueue,
      },
      stateMachine: this.evaluation.stateMachine,
      httpApi: this.api.httpApi,
      ...(this.sftp ? { sftpLogs: this.sftp.logGroup } : {}),
    });

    this.acknowledgeCdkInternals();

    new CfnOutput(this, 'LandingBucketName', { value: this.storage.landingBucket.bucketName });
    new CfnOutput(this, 'DataBucketName', { value: this.storage.dataBucket.bucketName });
    new CfnOutput(this, 'TableName', { value: this.storage.table.tableName });
    new CfnOutput(this, 'IngestDeadLetterQueueUrl', { value: this.ingest.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'EvaluationStateMachineArn', { value: this.evaluation.stateMachine.stateMachineArn });
    new CfnOutput(this, 'EvaluationDeadLetterQueueUrl', { value: this.evaluation.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'ReportDeadLetterQueueUrl', { value: this.reports.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'CommitDeadLetterQueueUrl', { value: this.commitIntake.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'GithubWebhookUrl', { value: `${this.api.httpApi.apiEndpoint}/webhooks/github`, description: 'Payload URL of the GitHub webhook (content type application/json)' });
  }

  /** Functions that CDK itself adds (bucket notifications) come with its managed policy and runtime. */
  private acknowledgeCdkInternals(): void {
    const notifications = this.node.tryFindChild('BucketNotificationsHandler050a0587b7544547bf325f094a3db834');
    if (notifications) {
      acknowledge(
        notifications,
        'CDK\'s own handler that writes the bucket notification configuration at deploy time; it logs with the basic execution role.',
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      );
    }
  }
}
