import type { DeadLetterService } from '#operations/dead-letters';
import { CapabilityUnavailableError } from '../errors.ts';
import { defineRoute, type ApiDependencies, type Route } from '../route.ts';
import {
  deadLetterMessageListSchema,
  deadLetterQueueParamsSchema,
  deadLetterShowQuerySchema,
  deadLetterSummaryListSchema,
  redriveBodySchema,
  redriveResultSchema,
} from '../schemas.ts';

/**
 * The work queues' dead-letter queues, for admins: what failed past every retry, and putting it
 * back once the cause is fixed (DESIGN.md "Messages": Symbiont's own mover, the same in AWS and
 * locally). Each consumer dedupes deliveries, so a redriven message is processed once.
 */
export const deadLetterRoutes: readonly Route[] = [
  defineRoute({
    method: 'get',
    path: '/dead-letters',
    operationId: 'listDeadLetterQueues',
    summary: 'Lists every work queue’s dead-letter queue with the messages it holds.',
    tags: ['operations'],
    access: ['admin'],
    response: { description: 'One entry per queue.', schema: deadLetterSummaryListSchema },
    handle: async (_input, { deps }) => ({ items: await service(deps).list() }),
  }),
  defineRoute({
    method: 'get',
    path: '/dead-letters/{queue}',
    operationId: 'showDeadLetters',
    summary: 'Shows messages of one dead-letter queue without moving them.',
    description: 'Each message shown is hidden from other readers for a second, then visible again where it was.',
    tags: ['operations'],
    access: ['admin'],
    request: { params: deadLetterQueueParamsSchema, query: deadLetterShowQuerySchema },
    response: { description: 'The messages, with what each is about.', schema: deadLetterMessageListSchema },
    errors: [404],
    handle: async ({ params, query }, { deps }) => ({ queue: params.queue, items: await service(deps).show(params.queue, { limit: query.limit }) }),
  }),
  defineRoute({
    method: 'post',
    path: '/dead-letters/{queue}/redrive',
    operationId: 'redriveDeadLetters',
    summary: 'Moves dead letters back to their queue, to be processed again.',
    description: 'A message leaves the DLQ only after it was sent to its queue: nothing is lost if the move fails midway.',
    tags: ['operations'],
    access: ['admin'],
    request: { params: deadLetterQueueParamsSchema, body: redriveBodySchema },
    response: { description: 'What was moved, and what stayed and why.', schema: redriveResultSchema },
    errors: [404],
    handle: async ({ params, body }, { deps }) => {
      const result = await service(deps).redrive(params.queue, body.max !== undefined ? { max: body.max } : {});
      return { ...result, failures: [...result.failures] };
    },
  }),
];

function service(deps: ApiDependencies): DeadLetterService {
  if (!deps.deadLetters) throw new CapabilityUnavailableError('dead-letter queues are not available from this API');
  return deps.deadLetters;
}
