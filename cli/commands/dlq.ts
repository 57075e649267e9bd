import { InvalidArgumentError, type Command } from 'commander';
import { deadLetterMessageListSchema, deadLetterSummaryListSchema, redriveResultSchema } from '#api/schemas';
import type { CommandModule, Session } from '../context.ts';
import { formatTable, formatTime, type Column } from '../output.ts';

/**
 * `symbiont dlq …` (admins): what failed past every retry, in each work queue's dead-letter queue,
 * and putting it back once the cause is fixed. The same in AWS and locally.
 */
export const dlqCommands: CommandModule = {
  register(program, context) {
    const dlq = program.command('dlq').description('Dead-letter queues: list them, show their messages, redrive them to their queue (admins).');

    dlq
      .command('list')
      .description('List every work queue’s DLQ with the messages it holds.')
      .action(async (_options: unknown, command: Command) => list(context.open(command)));

    dlq
      .command('show')
      .description('Show messages of a DLQ without moving them.')
      .argument('<queue>', 'the queue: ingest, evaluation, commit or report')
      .option('--limit <n>', 'messages to show, 1 to 50', positiveInteger, 10)
      .action(async (queue: string, options: { limit: number }, command: Command) => show(context.open(command), queue, options.limit));

    dlq
      .command('redrive')
      .description('Move a DLQ’s messages back to their queue, to be processed again (fix the cause first).')
      .argument('<queue>', 'the queue: ingest, evaluation, commit or report')
      .option('--max <n>', 'messages to move at most (default: all)', positiveInteger)
      .action(async (queue: string, options: { max?: number }, command: Command) => redrive(context.open(command), queue, options.max));
  },
};

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number, 1 or more');
  return n;
}

async function list(session: Session): Promise<void> {
  const queues = await session.client.get('/dead-letters', {}, deadLetterSummaryListSchema);
  if (session.json) return session.printJson(queues);
  const columns: readonly Column<(typeof queues.items)[number]>[] = [
    { header: 'QUEUE', value: (q) => q.queue },
    { header: 'MESSAGES', value: (q) => String(q.messages) },
    { header: 'IN FLIGHT', value: (q) => String(q.inFlight) },
  ];
  session.print(formatTable(columns, queues.items));
  const waiting = queues.items.filter((q) => q.messages > 0);
  if (waiting.length > 0) session.note(`See them with: symbiont dlq show ${waiting[0]!.queue}; move them back with: symbiont dlq redrive ${waiting[0]!.queue}`);
}

async function show(session: Session, queue: string, limit: number): Promise<void> {
  const shown = await session.client.get(`/dead-letters/${encodeURIComponent(queue)}`, { limit: String(limit) }, deadLetterMessageListSchema);
  if (session.json) return session.printJson(shown);
  if (shown.items.length === 0) return session.print(`The ${queue} DLQ is empty.\n`);
  const columns: readonly Column<(typeof shown.items)[number]>[] = [
    { header: 'MESSAGE', value: (m) => m.messageId },
    { header: 'SENT', value: (m) => formatTime(m.sentAt) },
    { header: 'RECEIVES', value: (m) => (m.receiveCount === undefined ? '' : String(m.receiveCount)) },
    { header: 'ABOUT', value: (m) => m.about },
  ];
  session.print(formatTable(columns, shown.items));
}

async function redrive(session: Session, queue: string, max: number | undefined): Promise<void> {
  const result = await session.client.post(`/dead-letters/${encodeURIComponent(queue)}/redrive`, max === undefined ? {} : { max }, redriveResultSchema);
  if (session.json) return session.printJson(result);
  session.print(`Moved ${result.moved} message${result.moved === 1 ? '' : 's'} from the ${queue} DLQ back to its queue.\n`);
  if (result.failed > 0) session.print(`${result.failed} stayed in the DLQ (not sent); try again later.\n`);
  if (result.notDeleted > 0) session.print(`${result.notDeleted} were sent but not deleted from the DLQ; the next redrive deletes them (the consumer drops the duplicate).\n`);
  for (const failure of result.failures) session.print(`  ${failure.messageId}: ${failure.reason}\n`);
}
