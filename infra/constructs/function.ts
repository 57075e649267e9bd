import { Duration, RemovalPolicy, Size, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESM_REQUIRE_BANNER } from '../image-context.ts';

/** The project root, found from this module's location rather than the working directory. */
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface SymbiontFunctionProps {
  /** Folder name under `functions/`; its `handler.ts` is the entry. */
  readonly name: string;
  /** Absolute path of the validated config file, bundled next to the handler. */
  readonly configFile: string;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** Disk under /tmp, in MiB (512 to 10240). @default 512 */
  readonly ephemeralStorageMiB?: number;
  /** Extra environment; the config path and service name are always set. */
  readonly environment?: Record<string, string>;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Whether the log group is kept when the stack is deleted. @default false */
  readonly retainLogs?: boolean;
  /** Shell commands run after bundling, given the bundle's folder (files to ship beside the handler). @default none */
  readonly afterBundling?: (outputDir: string) => string[];
}

/** The cdk-nag finding active tracing raises on a function's role, and why it stands. */
export const XRAY_WRITE_FINDING = 'AwsSolutions-IAM5[Resource::*]';

/**
 * Acknowledges the one wildcard resource active tracing adds to a function's role:
 * `xray:PutTraceSegments` and `xray:PutTelemetryRecords` (specific actions) on `*`, because X-Ray
 * has no resource to name (its actions accept no resource ARN). Acknowledged on the role's default
 * policy, where the statement is; an infra test (test/infra/tracing.test.ts) keeps X-Ray's the only
 * statement on `*` in a function's role, so the acknowledgement covers nothing else.
 */
export function acknowledgeXrayWrites(role: iam.Role): void {
  const policy = role.node.tryFindChild('DefaultPolicy');
  if (!policy) throw new Error(`${role.node.path} has no default policy: is tracing active on its function?`);
  Validations.of(policy).acknowledge({
    id: XRAY_WRITE_FINDING,
    reason: 'Active tracing writes X-Ray segments (xray:PutTraceSegments, xray:PutTelemetryRecords), which AWS defines with no resource narrower than "*".',
  });
}

/**
 * A Node.js 22 function built the way every Symbiont function is: bundled by the local esbuild
 * from `functions/<name>/handler.ts`, the config file beside it, its own role (no managed
 * policies: every grant is explicit), its own log group with a retention, and active X-Ray tracing.
 */
export class SymbiontFunction extends Construct {
  public readonly function: nodejs.NodejsFunction;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: SymbiontFunctionProps) {
    super(scope, id);
    const entry = join(projectRoot, 'functions', props.name, 'handler.ts');
    if (!existsSync(entry)) throw new Error(`function "${props.name}" has no handler at ${entry}`);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.retainLogs ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Symbiont ${props.name} function`,
    });
    // Written out instead of AWSLambdaBasicExecutionRole, so the function can log only to its own group.
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    const configFile = props.configFile;
    const afterBundling = props.afterBundling ?? (() => []);
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry,
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      ephemeralStorageSize: Size.mebibytes(props.ephemeralStorageMiB ?? 512),
      timeout: props.timeout ?? Duration.seconds(30),
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      // X-Ray: each invocation is traced; the handlers' tracer (#shared/tracing) adds the SDK calls and correlation ids.
      tracing: lambda.Tracing.ACTIVE,
      depsLockFilePath: join(projectRoot, 'package-lock.json'),
      projectRoot,
      environment: {
        SYMBIONT_CONFIG: '/var/task/symbiont.config.json',
        POWERTOOLS_SERVICE_NAME: `symbiont-${props.name}`,
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: 'node22',
        minify: true,
        sourceMap: true,
        banner: ESM_REQUIRE_BANNER,
        mainFields: ['module', 'main'],
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_input: string, output: string) => [`cp "${configFile}" "${output}/symbiont.config.json"`, ...afterBundling(output)],
        },
      },
    });
    acknowledgeXrayWrites(this.role);
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Symbiont pins nodejs22.x (the runtime its code and tests run on); moving runtimes is a deliberate upgrade.',
    });
  }
}
