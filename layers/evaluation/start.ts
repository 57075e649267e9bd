import { ExecutionAlreadyExists, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { logger } from '#shared/observability';
import { withCorrelation } from '#shared/tracing';
import { getRequest, updateRequest } from '#store/evaluations';
import type { Table } from '#store/table';
import type { EvaluationMessage, ExecutionInput } from './messages.ts';

/** What {@link startEvaluation} needs. */
export interface StartEvaluationDeps {
  readonly table: Table;
  readonly sfn: SFNClient;
  readonly stateMachineArn: string;
}

/** What starting did: `started`, or `already-started` for a redelivered message (or a part started before). */
export type StartOutcome = 'started' | 'already-started' | 'unknown-request' | 'cancelled';

/**
 * Starts the execution of one part of a request, named from the request hash so that a redelivered
 * message starts nothing: Step Functions refuses a second execution of the same name
 * (`ExecutionAlreadyExists`), which is success here. The request moves from `queued` to `running`
 * first, so that however fast the execution runs, its Finish finds it running.
 */
export async function startEvaluation(message: EvaluationMessage, deps: StartEvaluationDeps): Promise<StartOutcome> {
  return withCorrelation({ requestId: message.requestId }, async () => {
    const request = await getRequest(deps.table, message.requestId);
    if (!request) {
      // Recorded before it is queued: a message without a request was not sent by Symbiont.
      logger.error('evaluation message names no recorded request; dropped', { executionName: message.executionName });
      return 'unknown-request';
    }
    if (request.status === 'cancelled') {
      // Cancelled before this part started: it never starts.
      logger.info('evaluation request was cancelled; part not started', { part: message.part });
      return 'cancelled';
    }
    const input: ExecutionInput = { requestId: message.requestId, part: message.part, pipeline: message.pipeline, executionName: message.executionName };
    // Running before the execution starts: an execution can finish before a later write lands, and
    // Finish must find the request running. A failed start is retried by the queue; this changes nothing twice.
    await updateRequest(deps.table, message.requestId, { set: { status: 'running', startedAt: request.startedAt ?? new Date().toISOString() }, where: { status: 'queued' } });
    let outcome: StartOutcome = 'started';
    try {
      const started = await deps.sfn.send(new StartExecutionCommand({ stateMachineArn: deps.stateMachineArn, name: message.executionName, input: JSON.stringify(input) }));
      logger.info('evaluation started', { executionArn: started.executionArn, part: message.part });
    } catch (error) {
      if (!(error instanceof ExecutionAlreadyExists) && (error as Error).name !== 'ExecutionAlreadyExists') throw error;
      logger.info('evaluation was started before; nothing to do', { executionName: message.executionName });
      outcome = 'already-started';
    }
    return outcome;
  });
}
