import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { codeCell, notebook } from '../unit/reports-fixtures.ts';
import { type IngestRuntime, startIngestRuntime, symbiont } from './ingest-helpers.ts';
import { depth } from './invariants.ts';
import { waitFor } from './local-helpers.ts';
import { describeWithKernel } from './reports-helpers.ts';

/**
 * Fault injection on the report path (the Fault injection issue), through the local runtime with
 * the real render-report handler and this machine's Jupyter kernel: the kernel killed in the middle
 * of a report, and a report message delivered twice more. Each report ends with exactly one
 * outcome, stored where its status says.
 */

interface Report {
  reportId: string;
  status: string;
  attempts: number;
  finishedAt?: string;
  error?: { name: string; message: string; cell?: number };
  urls?: { html?: string; notebook?: string };
}

describeWithKernel('faults on the report path', () => {
  let ctx: IngestRuntime;
  const cli = async <T>(...args: string[]): Promise<T> => JSON.parse(await symbiont(ctx, ['--json', ...args])) as T;

  /** Registers a template of these cells and asks for one report of it, without parameters. */
  async function reportOf(name: string, cells: ReturnType<typeof codeCell>[]): Promise<Report> {
    const file = join(ctx.dataDir, `${name}.ipynb`);
    writeFileSync(file, JSON.stringify(notebook(cells)));
    await symbiont(ctx, ['templates', 'put', name, file]);
    const [created] = (await cli<{ reports: Report[] }>('reports', 'create', name)).reports;
    return waitFor(`report ${created!.reportId}`, async () => {
      const current = await cli<Report>('reports', 'show', created!.reportId);
      return current.status === 'failed' || current.status === 'succeeded' ? current : undefined;
    }, 180_000);
  }

  beforeAll(async () => {
    ctx = await startIngestRuntime({ label: 'faults-reports' });
  }, 120_000);

  afterAll(async () => {
    await ctx?.stop();
  });

  it('stores a report whose kernel died mid-run as failed, with what ran before', async () => {
    // Act: the third cell kills the kernel's own process.
    const report = await reportOf('dies', [
      codeCell('limit = 1', ['parameters']),
      codeCell('print("before the crash")'),
      codeCell('import os, signal\nos.kill(os.getpid(), signal.SIGKILL)'),
      codeCell('print("never")'),
    ]);
    const html = await (await fetch(report.urls!.html!)).text();

    // Assess: one outcome, stored; the error says the kernel died, at the cell that killed it.
    expect(report.status).toBe('failed');
    expect(`${report.error!.name}: ${report.error!.message}`).toMatch(/dead|died|kernel/i);
    expect(html).toContain('before the crash');
    expect(html).not.toContain('>never<');
  }, 240_000);

  it('renders a report once when its message is delivered twice more', async () => {
    // Prepare
    const report = await reportOf('once', [codeCell('x = 2', ['parameters']), codeCell('print(x * 21)')]);
    const queue = ctx.runtime.endpoints.queues.report.url;

    // Act
    for (let i = 0; i < 2; i++) await ctx.sqs.send(new SendMessageCommand({ QueueUrl: queue, MessageBody: JSON.stringify({ reportId: report.reportId }) }));
    await waitFor('the report queue drained', async () => ((await depth(ctx.sqs, queue)) === 0 ? true : undefined), 60_000);
    const after = await cli<Report>('reports', 'show', report.reportId);

    // Assess
    expect(report.status).toBe('succeeded');
    expect(after).toMatchObject({ status: 'succeeded', attempts: report.attempts, finishedAt: report.finishedAt });
  }, 240_000);
});
