import { createServer } from 'node:http';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { join, resolve } from 'node:path';
import type { TokenMap } from '#api/api';
import { configPath, loadConfig } from '#config/load';
import type { SymbiontConfig } from '#config/schema';
import { endpointEnv } from '#shared/aws';
import { log as logger } from './log.ts';
import { env as envNames, evaluation as evaluationLayout, localNames, type QueueName } from '#shared/resources';
import { createStore } from '#store/store';
import { createLocalClients, LOCAL_CREDENTIALS, type LocalClients } from './clients.ts';
import { LOCAL_ACCOUNT_ID, startDynamoDb, startS3, startSqs, type Emulator } from './emulators.ts';
import { describeEndpoints, writeEndpoints, type Endpoints } from './endpoints.ts';
import { LocalRuntimeError } from './errors.ts';
import { createHttpAdapter, type HttpApiHandler } from './http-adapter.ts';
import { lockDataDir } from './lock.ts';
import { close, listen, LOCAL_HOST, localUrl } from './net.ts';
import { provisionBuckets, provisionQueues, provisionTable, type LocalQueue, type QueueOverrides } from './provision.ts';
import { createS3Bridge, type AnnouncedArrival } from './s3-bridge.ts';
import { DATA_DIR_ENV, resolvePorts, type LocalPorts } from './settings.ts';
import { combinedUserDirectory, configUserDirectory, tableUserDirectory, type SftpUserLookup } from './sftp-auth.ts';
import { loadConfiguredKeys, loadOrCreateHostKey, writeKnownHosts } from './sftp-keys.ts';
import { createSftpServer } from './sftp-server.ts';
import { startSqsPoller, type BatchOutcome, type SqsHandler, type SqsPoller } from './sqs-poller.ts';
import { createLocalStepFunctions, type ExecutionRecord } from './stepfunctions.ts';
import { loadEvaluationDefinition } from './stepfunctions-definition.ts';
import { localTasksArn, registerLocalEvaluation, stepFunctionsDir } from './stepfunctions-evaluation.ts';
import { browserTokens, loadOrCreateTokens, tokenMap } from './tokens.ts';

/** The region the local services report; any region works, this one is AWS's default. */
export const LOCAL_REGION = 'us-east-1';

/** How to start the local runtime; everything has a default that `npm start` uses. */
export interface StartLocalOptions {
  /** The config file. @default `SYMBIONT_CONFIG`, else `symbiont.config.json` in the working directory */
  readonly configFile?: string;
  /** Where data persists. @default `SYMBIONT_DATA_DIR`, else the config's `local.dataDir` (`.symbiont`) */
  readonly dataDir?: string;
  /** Ports that beat the environment and the config; 0 picks a free port. */
  readonly ports?: Partial<LocalPorts>;
  /** Where `SYMBIONT_*_PORT` and `SYMBIONT_DATA_DIR` are read. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Queue settings that differ from `#shared/resources` (tests: a short visibility timeout). */
  readonly queueOverrides?: QueueOverrides;
  /**
   * Handlers that stand in for the real ones, to test the adapters alone. The real ones are
   * imported (after the environment they read is set) when these are absent.
   */
  readonly handlers?: { readonly ingest?: SqsHandler; readonly api?: HttpApiHandler; readonly evaluation?: SqsHandler };
  /** Seconds a poller's ReceiveMessage waits. @default 1 */
  readonly pollWaitSeconds?: number;
  /** Called after the S3 bridge (or the SFTP server, through it) announced an arrival. */
  readonly onArrival?: (arrival: AnnouncedArrival) => void;
  /** Called after each handler invocation by a poller. */
  readonly onBatch?: (outcome: BatchOutcome) => void;
  /** Called when a Step Functions execution ends. */
  readonly onExecutionEnd?: (execution: ExecutionRecord) => void;
  /**
   * Where the handlers reach S3 and DynamoDB instead of the emulators' own URLs (given): the
   * fault-injection tests put a proxy in between that fails calls on purpose. @default the emulators
   */
  readonly interpose?: (service: 's3' | 'dynamodb', url: string) => Promise<string>;
}

/** A running local runtime. */
export interface LocalRuntime {
  readonly endpoints: Endpoints;
  /** Where endpoints.json and env.sh were written. */
  readonly files: { readonly json: string; readonly env: string };
  /** Milliseconds from `startLocal` to ready. */
  readonly bootMs: number;
  /** The config it runs. */
  readonly config: SymbiontConfig;
  /** Stops pollers and servers and releases the data directory; safe to call twice. */
  stop(): Promise<void>;
}

/** The queue consumers: which handler each queue of `#shared/resources` feeds, as the stack wires them. */
const consumers: Record<QueueName, { functionName: string; load: () => Promise<SqsHandler> }> = {
  ingest: {
    functionName: 'ingest-upload',
    load: async () => (await import('../functions/ingest-upload/handler.ts')).handler,
  },
  evaluation: {
    functionName: 'start-evaluation',
    load: async () => (await import('../functions/start-evaluation/handler.ts')).handler,
  },
  report: {
    functionName: 'render-report',
    load: async () => (await import('../functions/render-report/handler.ts')).handler,
  },
  commit: {
    functionName: 'plan-evaluations',
    load: async () => (await import('../functions/plan-evaluations/handler.ts')).handler,
  },
};

/**
 * The environment the real handlers were imported with. They read it once, at module scope, so a
 * second runtime in the same process must offer them the same endpoints.
 */
let handlerEnv: Readonly<Record<string, string>> | undefined;

/**
 * Boots the local runtime in this process: S3, DynamoDB and SQS emulators with data under the
 * data directory, the resources the stack creates, the S3 bridge, one poller per queue calling the
 * same handler as Lambda, the HTTP API with a bearer token per role, and the SFTP server (host key
 * and the demo user's key pair generated under the data directory on first start). Resolves once everything
 * answers and endpoints.json is written.
 */
export async function startLocal(options: StartLocalOptions = {}): Promise<LocalRuntime> {
  const started = performance.now();
  const env = options.env ?? process.env;
  const configFile = resolve(options.configFile ?? configPath(env));
  const { config, dir: configDir } = loadConfig(configFile);
  const dataDir = resolve(options.dataDir ?? (env[DATA_DIR_ENV] || config.local.dataDir));
  const ports = resolvePorts(config.local, env, options.ports);
  const names = localNames(config.stack.stage);
  const region = LOCAL_REGION;
  const uploaderDatasets = config.uploaderDatasets ?? Object.keys(config.datasets);

  const lock = lockDataDir(dataDir);
  // With stand-ins for the handlers (adapter tests) the evaluation state machine is not run either.
  const needsRealHandlers = !options.handlers?.ingest || !options.handlers?.api;
  // Started now: building the definition loads aws-cdk-lib (seconds) unless a kept copy is current.
  const evaluationDefinition = needsRealHandlers ? loadEvaluationDefinition(localTasksArn(region, LOCAL_ACCOUNT_ID, names.table)) : undefined;
  evaluationDefinition?.catch(() => undefined);
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) {
      try {
        await stop();
      } catch (error) {
        logger.warn('a part of the local runtime did not stop cleanly', { error: error as Error });
      }
    }
    lock.release();
  };

  // Requests that reach the API while it boots wait for the router; a failed boot answers them 503.
  let apiReady!: (handler: HttpApiHandler) => void;
  let apiFailed!: (error: unknown) => void;
  const apiHandler = new Promise<HttpApiHandler>((res, rej) => {
    apiReady = res;
    apiFailed = rej;
  });
  apiHandler.catch(() => undefined);

  try {
    const tokens = loadOrCreateTokens(dataDir);
    const bridge = createS3Bridge({ landingBucket: names.landingBucket, region, onArrival: options.onArrival });
    const apiServer = createServer(createHttpAdapter({ handler: apiHandler, browserTokens: browserTokens(tokens) }));
    const hostKey = loadOrCreateHostKey(dataDir);
    const userKeys = loadConfiguredKeys(config, configDir, dataDir);
    const stepFunctions = createLocalStepFunctions({
      region,
      accountId: LOCAL_ACCOUNT_ID,
      historyFile: join(stepFunctionsDir(dataDir), 'executions.jsonl'),
      onExecutionEnd: options.onExecutionEnd,
    });
    // Users added at run time are read from the table at every login; logins before it is up wait.
    let connectUserTable!: (lookup: SftpUserLookup) => void;
    const userTable = new Promise<SftpUserLookup>((resolve) => (connectUserTable = resolve));
    const sftp = createSftpServer({
      landingBucket: names.landingBucket,
      hostKey,
      users: combinedUserDirectory(configUserDirectory(config, userKeys.keys), tableUserDirectory(userTable)),
      announce: (arrival) => bridge.announce(arrival),
    });

    // Everything that takes a port starts at once, so a taken port is reported before any work.
    const starting = [
      startS3(dataDir, ports.s3, (s3rver) => bridge.attach(s3rver)),
      startDynamoDb(dataDir, ports.dynamodb),
      startSqs(dataDir, ports.sqs, region),
      listen(apiServer, ports.api, 'api').then((port): Emulator => ({ port, url: localUrl(port), stop: () => close(apiServer) })),
      listen(sftp.server, ports.sftp, 'sftp').then((port): Emulator => ({ port, url: `sftp://${LOCAL_HOST}:${port}`, stop: () => sftp.stop() })),
      listen(stepFunctions.server, ports.stepfunctions, 'stepfunctions').then((port): Emulator => ({ port, url: localUrl(port), stop: () => close(stepFunctions.server) })),
    ] as const;
    const settled = await Promise.allSettled(starting);
    // Stopped in reverse order: the API first, then the bridge and pollers (registered later), the emulators last.
    for (const result of settled) if (result.status === 'fulfilled') stops.push(() => result.value.stop());
    const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
    const [s3, dynamodb, sqs, api, sftpListener, stepFunctionsListener] = settled.map((r) => (r as PromiseFulfilledResult<Emulator>).value) as [
      Emulator,
      Emulator,
      Emulator,
      Emulator,
      Emulator,
      Emulator,
    ];
    // Before the emulators stop: a running execution still uses them.
    stops.push(() => stepFunctions.stop());

    const clients: LocalClients = createLocalClients({ s3: s3.url, dynamodb: dynamodb.url, sqs: sqs.url }, region);
    stops.push(async () => clients.destroy());
    await provisionBuckets(clients.s3, names);
    await provisionTable(clients.dynamodb, names.table);
    const queues = await provisionQueues(clients.sqs, sqs.url, region, names, options.queueOverrides);
    const ingestQueue = queueNamed(queues, 'ingest');
    const evaluationQueue = queueNamed(queues, 'evaluation');
    const reportQueue = queueNamed(queues, 'report');
    const commitQueue = queueNamed(queues, 'commit');
    const stateMachineArn = `arn:aws:states:${region}:${LOCAL_ACCOUNT_ID}:stateMachine:${evaluationLayout.stateMachineName(config.stack.stage)}`;

    const handlerSettings: Record<string, string> = {
      [envNames.tableName]: names.table,
      [envNames.landingBucket]: names.landingBucket,
      [envNames.dataBucket]: names.dataBucket,
      [envNames.ingestQueueUrl]: ingestQueue.url,
      [envNames.evaluationQueueUrl]: evaluationQueue.url,
      [envNames.reportQueueUrl]: reportQueue.url,
      [envNames.commitQueueUrl]: commitQueue.url,
      [envNames.stateMachineArn]: stateMachineArn,
      // Links from GitHub statuses lead back to this API.
      [envNames.publicApiUrl]: api.url,
      [envNames.deadLetterQueues]: JSON.stringify(Object.fromEntries(queues.map((q) => [q.name, { queueUrl: q.url, deadLetterQueueUrl: q.deadLetterUrl }]))),
      [endpointEnv.s3]: options.interpose ? await options.interpose('s3', s3.url) : s3.url,
      [endpointEnv.dynamodb]: options.interpose ? await options.interpose('dynamodb', dynamodb.url) : dynamodb.url,
      [endpointEnv.sqs]: sqs.url,
      [endpointEnv.sfn]: stepFunctionsListener.url,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_REQUEST_CHECKSUM_CALCULATION: 'when_required',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'when_required',
      SYMBIONT_CONFIG: configFile,
      // Business metrics are CloudWatch's (embedded metric format lines); locally they would only be console noise.
      POWERTOOLS_METRICS_DISABLED: 'true',
      // Traces are X-Ray's; there is no X-Ray daemon here (the tracer is also off outside Lambda on its own).
      POWERTOOLS_TRACE_ENABLED: 'false',
    };
    if (needsRealHandlers) useHandlerEnv(handlerSettings);
    if (evaluationDefinition) {
      const { definition, cached } = await evaluationDefinition;
      const registered = await registerLocalEvaluation({
        face: stepFunctions,
        definition,
        stage: config.stack.stage,
        region,
        config,
        configDir,
        dataDir,
        s3: clients.s3,
        functionPrefix: names.table,
        ...(config.local.evaluationConcurrency ? { pointConcurrency: config.local.evaluationConcurrency } : {}),
      });
      logger.info('evaluation state machine ready', { stateMachineArn: registered, definition: cached ? 'kept from the last start' : 'built' });
    }

    // Stopped before the emulators (which the handlers still use), after the API.
    const pollers: SqsPoller[] = [];
    bridge.connect({ s3: clients.s3, sqs: clients.sqs, queueUrl: ingestQueue.url });
    sftp.connect(clients.s3);
    connectUserTable(createStore({ client: DynamoDBDocumentClient.from(clients.dynamodb, { marshallOptions: { removeUndefinedValues: true } }), tableName: names.table }));
    for (const queue of queues) {
      // Reports render only with the real handlers (adapter tests stand in for the others).
      if (queue.name === 'report' && !needsRealHandlers) continue;
      const consumer = consumers[queue.name];
      const handler =
        (queue.name === 'ingest'
          ? options.handlers?.ingest
          : queue.name === 'evaluation'
            ? (options.handlers?.evaluation ?? (needsRealHandlers ? undefined : idle))
            : needsRealHandlers
              ? undefined
              : idle) ?? (await consumer.load());
      pollers.push(
        startSqsPoller({
          sqs: clients.sqs,
          queue,
          region,
          handler,
          functionName: `${names.table}-${consumer.functionName}`,
          waitTimeSeconds: options.pollWaitSeconds,
          onBatch: options.onBatch,
        }),
      );
    }
    stops.push(async () => {
      await bridge.stop();
      await Promise.all(pollers.map((p) => p.stop()));
    });
    // Before the bridge: uploads cut off by the stop are kept and announced through it.
    stops.push(() => sftp.stop());
    stops.push(() => close(apiServer));

    // The config's templates, registered through the reports service: usable as soon as the runtime is ready.
    if (needsRealHandlers) {
      const [{ createReportServiceFromEnv }, { registerConfigTemplates }] = await Promise.all([import('#reports/service'), import('#reports/config-templates')]);
      const registered = await registerConfigTemplates(config, configDir, createReportServiceFromEnv(config));
      if (registered.length > 0) logger.info('templates registered from the config', { templates: registered });
    }
    const authenticatorTokens = tokenMap(tokens, uploaderDatasets);
    apiReady(options.handlers?.api ?? (await loadApi(config, authenticatorTokens)));

    const knownHostsPath = writeKnownHosts(dataDir, LOCAL_HOST, sftpListener.port, hostKey);
    const demo = userKeys.owned.find((pair) => pair.user === 'demo') ?? userKeys.owned[0];
    const endpoints = describeEndpoints({
      urls: { api: api.url, s3: s3.url, dynamodb: dynamodb.url, sqs: sqs.url, stepfunctions: stepFunctionsListener.url },
      stateMachineArn,
      region,
      names,
      queues,
      tokens,
      uploaderDatasets,
      dataDir,
      configFile,
      sftp: {
        host: LOCAL_HOST,
        port: sftpListener.port,
        user: demo?.user ?? null,
        privateKeyPath: demo?.privateKeyPath ?? null,
        knownHostsPath,
        datasets: demo ? config.sftpUsers[demo.user]?.datasets ?? [] : [],
      },
    });
    const files = writeEndpoints(dataDir, endpoints);
    const bootMs = performance.now() - started;
    logger.info('local runtime ready', { bootMs: Math.round(bootMs), dataDir, api: api.url });
    let stopping: Promise<void> | undefined;
    return {
      endpoints,
      files,
      bootMs,
      config,
      stop: () => (stopping ??= stopAll()),
    };
  } catch (error) {
    apiFailed(error);
    await stopAll();
    throw error;
  }
}

/** The evaluation and commit queues' consumer when the handlers are stand-ins: nothing to plan or start. */
const idle: SqsHandler = async () => ({ batchItemFailures: [] });

/** The API router with the bearer-token authenticator, built as functions/api/handler.ts builds it for IAM. */
async function loadApi(config: SymbiontConfig, tokens: TokenMap): Promise<HttpApiHandler> {
  const [{ createApi, bearerTokenAuthenticator }, { createStoreFromEnv }, { createEvaluationServiceFromEnv }, { createSftpUserService }, { localGateway }, { createGithubWebhookFromEnv }] = await Promise.all([
    import('#api/api'),
    import('#store/store'),
    import('#evaluation/service'),
    import('#sftp/users'),
    import('#sftp/gateway'),
    import('#evaluation/webhook-secret'),
  ]);
  const store = createStoreFromEnv();
  const { createReportServiceFromEnv } = await import('#reports/service');
  // Locally the SFTP server reads the table itself, so run-time users need nothing beyond it.
  const sftpUsers = createSftpUserService({ store, config, gateway: localGateway() });
  // The webhook's secret is the config's `webhooks.githubSecret` here (no secret ARN is set locally).
  const githubWebhook = createGithubWebhookFromEnv(config);
  // Presigned URLs point at the local S3 (AWS_ENDPOINT_URL_S3), so curl and pandas can use them.
  const { createDataAccessFromEnv } = await import('#api/data-access');
  // Every work queue's DLQ (DEAD_LETTER_QUEUES), as in AWS: `symbiont dlq`.
  const { createDeadLetterServiceFromEnv } = await import('#operations/dead-letters');
  // The web console at `/`: built in memory with esbuild on first use (the session cookie signs its calls).
  const [{ consoleAssets }, { buildConsole }] = await Promise.all([import('#console/assets'), import('#console/build')]);
  const api = createApi({
    store,
    config,
    authenticator: bearerTokenAuthenticator(tokens),
    data: createDataAccessFromEnv(store),
    reports: createReportServiceFromEnv(config),
    evaluations: createEvaluationServiceFromEnv(config),
    sftpUsers,
    githubWebhook,
    deadLetters: createDeadLetterServiceFromEnv(),
    console: consoleAssets({ config: { mode: 'local' }, load: buildConsole }),
  });
  return (event) => api.handle(event);
}

/**
 * Sets the environment the handlers read at module scope — before they are imported. Handlers
 * imported by an earlier runtime in this process keep what they read then, so a second runtime
 * must offer the same endpoints (restart it on the same ports and data directory).
 */
function useHandlerEnv(settings: Readonly<Record<string, string>>): void {
  if (handlerEnv) {
    const changed = Object.keys(settings).filter((name) => handlerEnv?.[name] !== settings[name]);
    if (changed.length > 0) {
      throw new LocalRuntimeError(
        `the handlers of this process were loaded with other settings (${changed.join(', ')}): restart in a new process, or on the same ports and data directory`,
      );
    }
  }
  Object.assign(process.env, settings);
  handlerEnv = { ...settings };
}

function queueNamed(queues: readonly LocalQueue[], name: QueueName): LocalQueue {
  const queue = queues.find((q) => q.name === name);
  if (!queue) throw new LocalRuntimeError(`queue ${name} is not defined in #shared/resources`);
  return queue;
}
