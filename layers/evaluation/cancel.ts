import { StopExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { ForbiddenError } from '#shared/errors';
import { logger } from '#shared/observability';
import { allRequestEvaluations, getRequest, updateEvaluation, updateRequest, type RequestRecord } from '#store/evaluations';
import type { Table } from '#store/table';
import { RequestNotFoundError } from './errors.ts';
import type { Requester } from './requests.ts';

/**
 * Cancelling a request (`POST /evaluations/requests/{id}/cancel`). The request is marked
 * `cancelled` first — from then on `start-evaluation` starts none of its parts, `finish` queues
 * no next part and `start-point` records any point still reaching it as cancelled — then its
 * executions are stopped (StopExecution; a part never started is simply absent), and the
 * evaluations still running are marked `cancelled`. The counters end exact: every point that
 * neither succeeded nor failed, recorded or not, counts as cancelled.
 */

export interface CancelDeps {
  readonly table: Table;
  /** Where the request's executions run; without it (tests) executions are not stopped. */
  readonly sfn?: SFNClient;
  readonly stateMachineArn?: string;
  readonly now?: () => Date;
}

/** Statuses a request can no longer leave. */
const ENDED = new Set<RequestRecord['status']>(['finished', 'failed', 'cancelled']);

/** The ARN of one execution of a state machine. */
export function executionArnOf(stateMachineArn: string, name: string): string {
  return `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
}

/** Cancels a request; one that ended already is answered as it is (`cancelled: false`). */
export async function cancelRequest(requestId: string, requester: Requester, deps: CancelDeps): Promise<{ request: RequestRecord; cancelled: boolean }> {
  if (requester.role !== 'admin' && requester.role !== 'scientist') {
    throw new ForbiddenError(`cancelling needs role admin or scientist; ${requester.name} has role ${requester.role}`, { required: ['admin', 'scientist'] });
  }
  const request = await getRequest(deps.table, requestId);
  if (!request) throw new RequestNotFoundError(`no evaluation request has the id ${requestId}`, { requestId });
  if (ENDED.has(request.status)) return { request, cancelled: false };
  const at = (deps.now?.() ?? new Date()).toISOString();
  const marked = await updateRequest(deps.table, requestId, {
    set: { status: 'cancelled', cancelledBy: requester.name, cancelledAt: at, finishedAt: at },
    where: { status: { in: ['queued', 'running'] } },
  });
  // It ended between the read and the write: answer it as it ended.
  if (!marked) return { request: (await getRequest(deps.table, requestId)) ?? request, cancelled: false };

  if (deps.sfn && deps.stateMachineArn) {
    for (const name of request.executions) {
      try {
        await deps.sfn.send(new StopExecutionCommand({ executionArn: executionArnOf(deps.stateMachineArn, name), error: 'Cancelled', cause: `cancelled by ${requester.name}` }));
      } catch (error) {
        // A part not started yet has no execution: it never will (start-evaluation reads the status).
        if ((error as Error).name !== 'ExecutionDoesNotExist') throw error;
      }
    }
  }
  const evaluations = await allRequestEvaluations(deps.table, requestId);
  for (const evaluation of evaluations.filter((e) => e.status === 'running')) {
    await updateEvaluation(deps.table, evaluation.evaluationId, { set: { status: 'cancelled', finishedAt: at }, where: { status: 'running' } });
  }
  const settled = await settleCancelledCounts(deps.table, requestId);
  logger.info('evaluation request cancelled', { requestId, by: requester.name, done: settled.done, failed: settled.failed, cancelled: settled.cancelled });
  return { request: settled, cancelled: true };
}

/**
 * Counts a cancelled request exactly from its evaluations: succeeded ones are done, failed ones
 * failed, and every other point of its total — cancelled while running, or never started — cancelled.
 */
export async function settleCancelledCounts(table: Table, requestId: string): Promise<RequestRecord> {
  const request = await getRequest(table, requestId);
  if (!request) throw new RequestNotFoundError(`no evaluation request has the id ${requestId}`, { requestId });
  const evaluations = await allRequestEvaluations(table, requestId);
  const done = evaluations.filter((e) => e.status === 'succeeded').length;
  const failed = evaluations.filter((e) => e.status === 'failed').length;
  const regressed = evaluations.filter((e) => e.regressed === true).length;
  const updated = await updateRequest(table, requestId, { set: { done, failed, regressed, cancelled: Math.max(0, request.total - done - failed) } });
  return updated ?? request;
}
