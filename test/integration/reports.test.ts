import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { codeCell, markdownCell, notebook } from '../unit/reports-fixtures.ts';
import { type IngestRuntime, outcomeOfSlot, putLanding, startIngestRuntime, symbiont } from './ingest-helpers.ts';
import { repoRoot, waitFor } from './local-helpers.ts';
import { CHROMIUM_MISSING, describeWithKernel, offlineChromium, openOffline, screenshotOffline } from './reports-helpers.ts';

/**
 * Reports as a new user meets them, through `npm start`'s runtime and the `symbiont` CLI: the
 * `explore` template registered from the config, two readings versions uploaded, one report each
 * rendered on this machine's Jupyter kernel, both HTML reports opened in Chromium with the network
 * off; a notebook written for papermill rendered unchanged; a failing template stored with its
 * failing cell marked.
 */

interface Report {
  reportId: string;
  status: string;
  dataset?: { name: string; version: number };
  error?: { name: string; message: string; cell?: number };
  urls?: { html?: string; notebook?: string };
}

const itWithChromium = offlineChromium ? it : (name: string, fn: () => Promise<void>) => it.skip(`${name} (${CHROMIUM_MISSING})`, fn);

describeWithKernel('reports, locally', () => {
  let ctx: IngestRuntime;
  let versions: number[];
  let explore: Report[];
  let downloads: string;

  const cli = async <T>(...args: string[]): Promise<T> => JSON.parse(await symbiont(ctx, ['--json', ...args])) as T;

  beforeAll(async () => {
    ctx = await startIngestRuntime({ label: 'reports' });
    downloads = join(ctx.dataDir, 'downloads');
    mkdirSync(downloads, { recursive: true });
    const days = ['readings-2025-01-06.csv', 'readings-2025-01-09.csv'];
    versions = [];
    for (const [i, file] of days.entries()) {
      await putLanding(ctx, `api/readings/slot-report-${i}/${file}`, readFileSync(join(repoRoot, 'examples', 'data', file)));
      const upload = await outcomeOfSlot(ctx, `slot-report-${i}`);
      expect(upload.status).toBe('published');
      versions.push(upload.version!);
    }
    explore = (
      await cli<{ reports: Report[] }>('reports', 'create', 'explore', ...versions.flatMap((v) => ['--dataset', `readings@${v}`]), '--param', 'z_threshold=2.5', '--wait', '--timeout', '600')
    ).reports;
  }, 900_000);

  afterAll(async () => {
    await ctx?.stop();
  });

  it('has the explore template registered from the config, with its parameters read like papermill inspect', async () => {
    // Act
    const template = await cli<{ name: string; source: string; parameters: { name: string; type: string; help: string }[] }>('templates', 'show', 'explore');

    // Assess
    expect(template).toMatchObject({ name: 'explore', source: 'config' });
    expect(template.parameters).toContainEqual(expect.objectContaining({ name: 'z_threshold', type: 'float', help: expect.stringContaining('standard deviations') }));
  });

  it('renders one explore report per dataset version', () => {
    // Assess
    expect(explore.map((r) => [r.status, r.dataset?.version])).toEqual(versions.map((v) => ['succeeded', v]));
  });

  it('stores each report as a notebook whose injected cell follows the parameters cell, and as HTML', async () => {
    // Act
    const files = await cli<{ files: string[] }>('reports', 'download', explore[0]!.reportId, '--dir', downloads);
    const executed = JSON.parse(readFileSync(files.files.find((f) => f.endsWith('.ipynb'))!, 'utf8')) as { cells: { metadata: { tags?: string[] }; source: string | string[] }[] };

    // Assess
    const tags = executed.cells.map((c) => c.metadata.tags ?? []);
    const at = tags.findIndex((t) => t.includes('parameters'));
    expect(tags[at + 1]).toEqual(['injected-parameters']);
    const injected = [executed.cells[at + 1]!.source].flat().join('');
    expect(injected).toContain('z_threshold = 2.5\n');
    expect(injected).toContain(`dataset_version = ${versions[0]}\n`);
    expect(readFileSync(files.files.find((f) => f.endsWith('.html'))!, 'utf8')).toContain(`readings v${versions[0]}`);
  });

  itWithChromium('opens both HTML reports in Chromium with the network off: every image shows, nothing is fetched', async () => {
    for (const report of explore) {
      // Prepare
      const { files } = await cli<{ files: string[] }>('reports', 'download', report.reportId, '--dir', downloads, '--format', 'html');

      // Act
      const page = await openOffline(files[0]!, downloads);

      // Assess
      expect(page.images).toBeGreaterThanOrEqual(2);
      expect(page.broken).toBe(0);
      expect(page.resources).toEqual([]);
    }
  }, 300_000);

  itWithChromium('keeps a screenshot of a report in the docs', async () => {
    // Prepare
    const { files } = await cli<{ files: string[] }>('reports', 'download', explore[1]!.reportId, '--dir', downloads, '--format', 'html');
    const png = join(downloads, 'explore.png');

    // Act
    await screenshotOffline(files[0]!, png, { hideCode: true });

    // Assess
    expect(statSync(png).size).toBeGreaterThan(20_000);
    // Refreshes docs/reports-explore.png when asked (the committed one comes from such a run).
    if (process.env.SYMBIONT_UPDATE_DOCS === '1') copyFileSync(png, join(repoRoot, 'docs', 'reports-explore.png'));
    expect(existsSync(join(repoRoot, 'docs', 'reports-explore.png'))).toBe(true);
  }, 300_000);

  it('renders a notebook written for papermill unchanged', async () => {
    // Prepare: a papermill notebook, knowing nothing of Symbiont.
    const file = join(ctx.dataDir, 'papermill.ipynb');
    writeFileSync(
      file,
      JSON.stringify(notebook([markdownCell('# Papermill'), codeCell('rows = 3\nlabel = "none"', ['parameters']), codeCell('print(label * rows)')])),
    );
    await symbiont(ctx, ['templates', 'put', 'papermill', file]);

    // Act
    const [report] = (await cli<{ reports: Report[] }>('reports', 'create', 'papermill', '-p', 'rows=2', '-p', 'label=ab', '--wait')).reports;
    const { files } = await cli<{ files: string[] }>('reports', 'download', report!.reportId, '--dir', downloads, '--format', 'html');

    // Assess
    expect(report!.status).toBe('succeeded');
    expect(readFileSync(files[0]!, 'utf8')).toContain('<pre class="output-stream stdout">abab\n</pre>');
  });

  it('stores a failing template’s report with the failing cell marked and the error on its status', async () => {
    // Prepare
    const file = join(ctx.dataDir, 'fails.ipynb');
    writeFileSync(file, JSON.stringify(notebook([codeCell('limit = 1', ['parameters']), codeCell('print("ran")'), codeCell('raise RuntimeError(f"limit {limit} reached")'), codeCell('print("never")')])));
    await symbiont(ctx, ['templates', 'put', 'fails', file]);
    const [created] = (await cli<{ reports: Report[] }>('reports', 'create', 'fails')).reports;

    // Act
    const report = await waitFor('the failing report', async () => {
      const current = await cli<Report>('reports', 'show', created!.reportId);
      return current.status === 'failed' || current.status === 'succeeded' ? current : undefined;
    }, 120_000);
    const html = await (await fetch(report.urls!.html!)).text();

    // Assess
    expect(report).toMatchObject({ status: 'failed', error: { name: 'RuntimeError', message: 'limit 1 reached', cell: 4 } });
    expect(html).toContain('It stopped at <a href="#cell-4">cell 4</a>: <code>RuntimeError: limit 1 reached</code>');
    expect(html).toMatch(/<section class="cell code failed" id="cell-4">/);
  }, 180_000);

  it('refuses unknown parameters and wrong types, naming them', async () => {
    // Act
    const attempt = symbiont(ctx, ['reports', 'create', 'explore', '--dataset', 'readings', '-p', 'z_treshold=2', '-p', 'bins="many"']);

    // Assess
    await expect(attempt).rejects.toThrow(/template explore declares no parameter z_treshold.*bins must be an int \(default 30\), not a string/s);
  });
});
