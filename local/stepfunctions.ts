import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import { ExecutionAbortedError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { log as logger } from './log.ts';

/**
 * The local Step Functions: aws-local-stepfunctions runs the state machine definition the stack
 * deploys, with a local handler for every Task state, behind a small HTTP face that speaks Step
 * Functions' JSON protocol (`X-Amz-Target: AWSStepFunctions.<Action>`), so the SDK (through
 * `AWS_ENDPOINT_URL_SFN`) and `aws stepfunctions … --endpoint-url` work against it.
 *
 * Actions: StartExecution, DescribeExecution, ListExecutions, GetExecutionHistory, StopExecution,
 * DescribeStateMachine, ListStateMachines. Executions live in memory; finished ones are also
 * appended to a JSON-lines file and read back on start, so DescribeExecution and ListExecutions
 * answer after a restart (their event history does not survive one). An execution still running
 * when the runtime stops is aborted: nothing resumes it.
 */

/** A handler standing in for a Task state: the state's effective input in, its result out. */
export type TaskOverride = (input: unknown) => Promise<unknown>;

/** A state machine the face runs. */
export interface LocalStateMachine {
  readonly name: string;
  readonly definition: Record<string, unknown>;
  /** One per Task state name: a Task state without one would call real AWS, so one missing is refused. */
  readonly overrides: Readonly<Record<string, TaskOverride>>;
  /** Milliseconds between retries, per state, instead of the definition's intervals (tests). */
  readonly retryIntervals?: Readonly<Record<string, number>>;
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** One execution as DescribeExecution shows it. */
export interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  startDate: number;
  stopDate?: number;
}

/** One history event, in the shape GetExecutionHistory answers. */
export interface HistoryEvent {
  readonly id: number;
  readonly previousEventId: number;
  readonly timestamp: number;
  readonly type: string;
  readonly [details: string]: unknown;
}

export interface LocalStepFunctionsOptions {
  readonly region: string;
  readonly accountId: string;
  /** JSON-lines file finished executions are kept in; none: memory only. */
  readonly historyFile?: string;
  /** Called when an execution ends (tests, the benchmark). */
  readonly onExecutionEnd?: (execution: ExecutionRecord) => void;
}

export interface LocalStepFunctions {
  readonly server: Server;
  /** Adds a state machine; refuses one with a Task state that has no override. Returns its ARN. */
  register(machine: LocalStateMachine): string;
  start(stateMachineArn: string, name: string | undefined, input: string): ExecutionRecord;
  describe(executionArn: string): ExecutionRecord;
  history(executionArn: string): readonly HistoryEvent[];
  /** Resolves when the execution has ended. */
  wait(executionArn: string): Promise<ExecutionRecord>;
  /** Aborts running executions and waits for them. */
  stop(): Promise<void>;
}

/** An error answered in the protocol's shape: `{"__type", "message"}` with status 400. */
export class StepFunctionsApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = type;
  }
}

/** Every Task state of a definition, nested Map and Parallel processors included. */
export function taskStateNames(definition: Record<string, unknown>): string[] {
  const names: string[] = [];
  const visit = (graph: Record<string, unknown>) => {
    for (const [name, state] of Object.entries((graph.States ?? {}) as Record<string, Record<string, unknown>>)) {
      if (state.Type === 'Task') names.push(name);
      for (const inner of [state.ItemProcessor, state.Iterator, ...((state.Branches as unknown[]) ?? [])]) {
        if (inner && typeof inner === 'object') visit(inner as Record<string, unknown>);
      }
    }
  };
  visit(definition);
  return names;
}

const NAME = /^[A-Za-z0-9_-]{1,80}$/;
/** History events kept per execution: a bound, since a 500-point execution logs thousands. */
const MAX_EVENTS = 25_000;

interface Running {
  record: ExecutionRecord;
  events: HistoryEvent[];
  abort?: () => void;
  done: Promise<ExecutionRecord>;
}

/** Creates the face; `register` state machines, then `listen` on its server. */
export function createLocalStepFunctions(options: LocalStepFunctionsOptions): LocalStepFunctions {
  const machines = new Map<string, { machine: LocalStateMachine; runner: StateMachine; createdAt: number }>();
  const executions = new Map<string, Running>();
  const stateMachineArn = (name: string) => `arn:aws:states:${options.region}:${options.accountId}:stateMachine:${name}`;
  const executionArn = (machine: string, name: string) => `arn:aws:states:${options.region}:${options.accountId}:execution:${machine}:${name}`;

  for (const record of readHistory(options.historyFile)) {
    executions.set(record.executionArn, { record, events: [], done: Promise.resolve(record) });
  }

  const find = (arn: string): Running => {
    const running = executions.get(arn);
    if (!running) throw new StepFunctionsApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return running;
  };

  function start(machineArn: string, requestedName: string | undefined, input: string): ExecutionRecord {
    const entry = machines.get(machineArn);
    if (!entry) throw new StepFunctionsApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${machineArn}'`);
    const name = requestedName ?? randomUUID();
    if (!NAME.test(name)) throw new StepFunctionsApiError('InvalidName', `Invalid Name: '${name}' (1 to 80 letters, digits, "-" and "_")`);
    let parsedInput: unknown;
    try {
      parsedInput = JSON.parse(input);
    } catch {
      throw new StepFunctionsApiError('InvalidExecutionInput', 'Invalid State Machine Execution Input: the input is not JSON');
    }
    const arn = executionArn(entry.machine.name, name);
    const existing = executions.get(arn);
    if (existing) {
      // As in AWS: the same name and input while running is the same start; anything else is refused.
      if (existing.record.status === 'RUNNING' && existing.record.input === input) return existing.record;
      throw new StepFunctionsApiError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
    }
    const record: ExecutionRecord = { executionArn: arn, stateMachineArn: machineArn, name, status: 'RUNNING', input, startDate: Date.now() / 1000 };
    const events: HistoryEvent[] = [];
    const execution = entry.runner.run(parsedInput as never, {
      overrides: {
        taskResourceLocalHandlers: entry.machine.overrides as never,
        ...(entry.machine.retryIntervals ? { retryIntervalOverrides: entry.machine.retryIntervals as never } : {}),
      },
      context: {
        Execution: { Id: arn, Name: name, Input: parsedInput as never, StartTime: new Date(record.startDate * 1000).toISOString(), RoleArn: `arn:aws:iam::${options.accountId}:role/local` },
        StateMachine: { Id: machineArn, Name: entry.machine.name },
      },
    });
    void collect(execution.eventLogs as AsyncGenerator<never>, events);
    const done = execution.result.then(
      (output) => Object.assign(record, { status: 'SUCCEEDED' as const, output: JSON.stringify(output ?? null) }),
      (error: unknown) => {
        if (error instanceof ExecutionAbortedError) return Object.assign(record, { status: 'ABORTED' as const });
        const { name: errorName, cause } = failureOf(error);
        const timedOut = (error as Error)?.name === 'ExecutionTimeoutError';
        return Object.assign(record, { status: timedOut ? ('TIMED_OUT' as const) : ('FAILED' as const), error: errorName, cause });
      },
    ).then((ended) => {
      ended.stopDate = Date.now() / 1000;
      appendHistory(options.historyFile, ended);
      logger.info('execution ended', { execution: ended.name, status: ended.status, error: ended.error, seconds: Math.round((ended.stopDate - ended.startDate) * 10) / 10 });
      options.onExecutionEnd?.(ended);
      return ended;
    });
    executions.set(arn, { record, events, abort: execution.abort, done });
    logger.info('execution started', { execution: name, stateMachine: entry.machine.name });
    return record;
  }

  const actions: Record<string, (body: Record<string, unknown>) => unknown> = {
    StartExecution(body) {
      const record = start(String(body.stateMachineArn ?? ''), body.name === undefined ? undefined : String(body.name), typeof body.input === 'string' ? body.input : '{}');
      return { executionArn: record.executionArn, startDate: record.startDate };
    },
    DescribeExecution(body) {
      return { ...find(String(body.executionArn ?? '')).record };
    },
    StopExecution(body) {
      const running = find(String(body.executionArn ?? ''));
      if (running.record.status === 'RUNNING') {
        running.abort?.();
        Object.assign(running.record, { error: body.error, cause: body.cause });
      }
      return { stopDate: Date.now() / 1000 };
    },
    ListExecutions(body) {
      const machineArn = String(body.stateMachineArn ?? '');
      if (!machines.has(machineArn)) throw new StepFunctionsApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${machineArn}'`);
      const all = [...executions.values()]
        .map((e) => e.record)
        .filter((r) => r.stateMachineArn === machineArn && (body.statusFilter === undefined || r.status === body.statusFilter))
        .sort((a, b) => b.startDate - a.startDate);
      const { items, nextToken } = page(all, body);
      return { executions: items.map(({ input: _i, output: _o, error: _e, cause: _c, ...summary }) => summary), ...(nextToken ? { nextToken } : {}) };
    },
    GetExecutionHistory(body) {
      const events = [...find(String(body.executionArn ?? '')).events];
      if (body.reverseOrder === true) events.reverse();
      const { items, nextToken } = page(events, body);
      return { events: items, ...(nextToken ? { nextToken } : {}) };
    },
    DescribeStateMachine(body) {
      const entry = machines.get(String(body.stateMachineArn ?? ''));
      if (!entry) throw new StepFunctionsApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${String(body.stateMachineArn)}'`);
      return {
        stateMachineArn: stateMachineArn(entry.machine.name),
        name: entry.machine.name,
        status: 'ACTIVE',
        definition: JSON.stringify(entry.machine.definition),
        roleArn: `arn:aws:iam::${options.accountId}:role/local`,
        type: 'STANDARD',
        creationDate: entry.createdAt,
      };
    },
    ListStateMachines() {
      return {
        stateMachines: [...machines.values()].map(({ machine, createdAt }) => ({ stateMachineArn: stateMachineArn(machine.name), name: machine.name, type: 'STANDARD', creationDate: createdAt })),
      };
    },
  };

  const server = createServer((request, response) => void serve(request, response, actions));

  return {
    server,
    register(machine) {
      const overrides = new Set(Object.keys(machine.overrides));
      const missing = taskStateNames(machine.definition).filter((name) => !overrides.has(name));
      if (missing.length > 0) throw new Error(`state machine ${machine.name}: Task states without a local handler would call AWS: ${missing.join(', ')}`);
      const arn = stateMachineArn(machine.name);
      // Validated once here, with ARN and path checks: a definition that fails would fail in AWS too.
      const runner = new StateMachine(machine.definition as unknown as StateMachineDefinition, { validationOptions: { checkArn: true, checkPaths: true } });
      machines.set(arn, { machine, runner, createdAt: Date.now() / 1000 });
      return arn;
    },
    start,
    describe: (arn) => ({ ...find(arn).record }),
    history: (arn) => find(arn).events,
    wait: (arn) => find(arn).done,
    async stop() {
      const running = [...executions.values()].filter((e) => e.record.status === 'RUNNING');
      if (running.length > 0) logger.warn('aborting executions still running; nothing resumes them', { executions: running.map((e) => e.record.name) });
      for (const execution of running) execution.abort?.();
      await Promise.all(running.map((e) => e.done.catch(() => undefined)));
    },
  };
}

async function serve(request: IncomingMessage, response: ServerResponse, actions: Record<string, (body: Record<string, unknown>) => unknown>): Promise<void> {
  const requestId = randomUUID();
  const reply = (status: number, body: unknown) => {
    response.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': requestId });
    response.end(JSON.stringify(body));
  };
  try {
    const target = String(request.headers['x-amz-target'] ?? '');
    const action = /^AWSStepFunctions\.(\w+)$/.exec(target)?.[1];
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    if (request.method !== 'POST' || !action) throw new StepFunctionsApiError('UnknownOperationException', `expected POST with X-Amz-Target: AWSStepFunctions.<Action>, got ${request.method} ${target || '(none)'}`);
    const handler = actions[action];
    if (!handler) throw new StepFunctionsApiError('UnknownOperationException', `${action} is not supported locally; supported: ${Object.keys(actions).join(', ')}`);
    const text = Buffer.concat(chunks).toString('utf8');
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    reply(200, handler(body));
  } catch (error) {
    if (error instanceof StepFunctionsApiError) reply(error.status, { __type: error.type, message: error.message });
    else if (error instanceof SyntaxError) reply(400, { __type: 'SerializationException', message: 'the request body is not JSON' });
    else {
      logger.error('local Step Functions request failed', { error: error as Error });
      reply(500, { __type: 'InternalFailure', message: `internal error; request id ${requestId}` });
    }
  }
}

/** Pages of a list by `maxResults` and an opaque `nextToken` (the offset). */
function page<T>(items: readonly T[], body: Record<string, unknown>): { items: T[]; nextToken?: string } {
  const max = typeof body.maxResults === 'number' && body.maxResults > 0 ? Math.min(body.maxResults, 1000) : 100;
  const offset = typeof body.nextToken === 'string' ? Number(Buffer.from(body.nextToken, 'base64url').toString('utf8')) || 0 : 0;
  const slice = items.slice(offset, offset + max);
  const next = offset + max < items.length ? Buffer.from(String(offset + max), 'utf8').toString('base64url') : undefined;
  return { items: slice, ...(next ? { nextToken: next } : {}) };
}

/** The error name and cause of a failed execution, as Step Functions reports them. */
function failureOf(error: unknown): { name: string; cause: string } {
  // aws-local-stepfunctions wraps the state's error in an ExecutionError whose cause is it.
  const inner = (error as { cause?: unknown })?.cause ?? error;
  const e = inner as { name?: string; message?: string };
  return { name: e?.name ?? 'States.Runtime', cause: e?.message ?? String(inner) };
}

/** Turns the library's event log into history events named and numbered as Step Functions does. */
async function collect(log: AsyncGenerator<Record<string, unknown>>, events: HistoryEvent[]): Promise<void> {
  try {
    for await (const event of log) {
      if (events.length >= MAX_EVENTS) continue;
      const id = events.length + 1;
      events.push({ id, previousEventId: id - 1, timestamp: Number(event.timestamp) / 1000, ...describeEvent(event) });
    }
  } catch {
    // The log ends with the execution; an aborted one may end it with an error.
  }
}

/** One library event as a history event: its type and the details member the AWS model names. */
function describeEvent(event: Record<string, unknown>): { type: string; [details: string]: unknown } {
  const kind = String(event.type);
  const state = event.state as { name: string; type: string } | undefined;
  const parent = event.parentState as { name: string } | undefined;
  const error = event.Error === undefined ? {} : { error: String(event.Error), cause: typeof event.Cause === 'string' ? event.Cause : JSON.stringify(event.Cause) };
  switch (kind) {
    case 'ExecutionStarted':
      return { type: kind, executionStartedEventDetails: { input: JSON.stringify(event.input ?? null) } };
    case 'ExecutionSucceeded':
      return { type: kind, executionSucceededEventDetails: { output: JSON.stringify(event.output ?? null) } };
    case 'ExecutionFailed':
      return { type: kind, executionFailedEventDetails: error };
    case 'ExecutionAborted':
      return { type: kind, executionAbortedEventDetails: {} };
    case 'ExecutionTimeout':
      return { type: 'ExecutionTimedOut', executionTimedOutEventDetails: {} };
    case 'MapIterationStarted':
    case 'MapIterationSucceeded':
    case 'MapIterationFailed': {
      const member = `${kind[0]!.toLowerCase()}${kind.slice(1)}EventDetails`;
      return { type: kind, [member]: { name: parent?.name, index: event.index } };
    }
    case 'StateEntered':
      return { type: `${state?.type ?? ''}StateEntered`, stateEnteredEventDetails: { name: state?.name } };
    case 'StateExited':
      return { type: `${state?.type ?? ''}StateExited`, stateExitedEventDetails: { name: state?.name } };
    case 'StateFailed':
      return state?.type === 'Task'
        ? { type: 'TaskFailed', taskFailedEventDetails: { resourceType: 'lambda', resource: state.name, ...error } }
        : { type: `${state?.type ?? ''}StateFailed`, stateFailedEventDetails: { name: state?.name, ...error } };
    case 'StateRetried':
      // Step Functions shows a retry as the task scheduled again; the local log names it.
      return { type: 'TaskRetried', taskRetriedEventDetails: { name: state?.name, attempt: (event.retry as { attempt?: number } | undefined)?.attempt } };
    case 'StateCaught':
      return { type: `${state?.type ?? ''}StateCaught`, stateCaughtEventDetails: { name: state?.name } };
    default:
      return { type: kind };
  }
}

function readHistory(file: string | undefined): ExecutionRecord[] {
  if (!file || !existsSync(file)) return [];
  const records: ExecutionRecord[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      records.push(JSON.parse(line) as ExecutionRecord);
    } catch {
      // A line cut short by a crash: the rest still reads.
    }
  }
  return records;
}

function appendHistory(file: string | undefined, record: ExecutionRecord): void {
  if (!file) return;
  try {
    mkdirSync(dirname(file), { recursive: true });
    appendFileSync(file, `${JSON.stringify(record)}\n`);
  } catch (error) {
    logger.warn('could not keep a finished execution on disk', { error: error as Error });
  }
}
