import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { uploadPageSchema, uploadSchema, uploadSlotSchema, type Upload, type UploadSlotAnswer } from '#api/schemas';
import type { CliIo, CommandModule, Session } from '../context.ts';
import { CliError, UsageError } from '../errors.ts';
import { formatBytes, formatFields } from '../output.ts';
import { progressBar, putFile } from '../transfer.ts';
import { formatReport } from './uploads.ts';

/**
 * `symbiont upload <dataset> <file>`: asks for an upload slot, PUTs the file to its presigned URL
 * (the same validation path as SFTP follows), then waits for the outcome and prints it. The exit
 * code is 0 only when the file was published (or matched a version already published).
 */
export const uploadCommand: CommandModule = {
  register(program, context) {
    program
      .command('upload')
      .description('Upload a file to a dataset through a presigned URL, then wait for and print its outcome.')
      .argument('<dataset>', 'dataset name')
      .argument('<file>', 'the file to upload; its name is kept')
      .option('--no-wait', 'print the slot and return once the file is sent, without waiting for the outcome')
      .option('--timeout <seconds>', 'how long to wait for the outcome (default 600)', seconds)
      .action(async (dataset: string, file: string, options: UploadOptions, command: Command) => upload(context.open(command), context.io, dataset, file, options));
  },
};

interface UploadOptions {
  readonly wait: boolean;
  readonly timeout?: number;
}

/** Outcomes: an upload in one of these statuses will not change by itself. */
const outcomes = new Set(['published', 'quarantined', 'rejected', 'failed']);

/** The upload did not end published: its outcome is printed; this sets the exit code. */
export class UploadNotPublishedError extends CliError {
  override name = 'UploadNotPublishedError';
}

async function upload(session: Session, io: CliIo, dataset: string, file: string, options: UploadOptions): Promise<void> {
  const path = resolve(io.cwd, file);
  const size = await stat(path).then(
    (s) => (s.isFile() ? s.size : undefined),
    () => undefined,
  );
  if (size === undefined) throw new UsageError(`${file}: no such file`);

  const slot = await session.client.post(`/datasets/${encodeURIComponent(dataset)}/uploads`, { file: basename(path) }, uploadSlotSchema);
  const progress = progressBar(io.stderr, io.stderrIsTTY === true, `${slot.file}`, size);
  await putFile({ url: slot.url, path, headers: slot.headers, progress });
  if (!options.wait) {
    if (session.json) session.printJson({ slotId: slot.slotId, dataset: slot.dataset, key: slot.key, bytes: size });
    else session.print(`Sent ${slot.file} (${formatBytes(size)}) to ${slot.dataset} through slot ${slot.slotId}.\nFollow it with: symbiont uploads list --slot ${slot.slotId}\n`);
    return;
  }
  if (!session.json) session.note(`Sent ${slot.file} (${formatBytes(size)}) through slot ${slot.slotId}; waiting for validation…`);
  const outcome = await waitForOutcome(session, slot, (options.timeout ?? 600) * 1000);
  if (session.json) session.printJson(outcome);
  else session.print(describeOutcome(outcome));
  if (outcome.status !== 'published') {
    throw new UploadNotPublishedError(`upload ${outcome.uploadId} was ${outcome.status}${outcome.reason ? `: ${outcome.reason}` : ''}`);
  }
}

/** Polls the slot's uploads (1 s, then slower) until one has an outcome, and reads it whole. */
async function waitForOutcome(session: Session, slot: UploadSlotAnswer, timeoutMs: number): Promise<Upload> {
  const deadline = Date.now() + timeoutMs;
  let delay = 250;
  for (;;) {
    const page = await session.client.get('/uploads', { slot: slot.slotId }, uploadPageSchema);
    const done = page.items.find((u) => outcomes.has(u.status));
    if (done) return session.client.get(`/uploads/${done.uploadId}`, {}, uploadSchema);
    if (Date.now() + delay > deadline) {
      const seen = page.items[0];
      throw new CliError(
        `no outcome for slot ${slot.slotId} after ${Math.round(timeoutMs / 1000)} s (${seen ? `upload ${seen.uploadId} is ${seen.status}` : 'the upload is not recorded yet'}); follow it with: symbiont uploads list --slot ${slot.slotId}`,
      );
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 2000);
  }
}

function describeOutcome(upload: Upload): string {
  const fields = formatFields([
    ['upload', upload.uploadId],
    ['status', upload.status],
    ['version', upload.version === undefined ? undefined : `v${upload.version} of ${upload.dataset ?? '?'}`],
    ['reason', upload.status === 'published' ? undefined : upload.reason],
    ['file', upload.file],
    ['sender', upload.sender],
  ]);
  const headline =
    upload.status === 'published'
      ? `Published: ${upload.dataset} v${upload.version}.\n`
      : upload.status === 'quarantined'
        ? `Quarantined: the file did not pass validation.\n`
        : `${upload.status[0]!.toUpperCase()}${upload.status.slice(1)}: ${upload.reason ?? 'no reason recorded'}\n`;
  return `${headline}${fields}${upload.report ? `\n${formatReport(upload.report)}` : ''}`;
}

function seconds(value: string): number {
  if (!/^[1-9]\d*$/.test(value)) throw new InvalidArgumentError('expected a whole number of seconds.');
  return Number(value);
}
