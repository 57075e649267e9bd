/**
 * One validation run in its own process, so that its peak RSS is its own:
 * `tsx bench/validation-worker.ts symbiont|baseline <file>` prints
 * `{"seconds", "maxRssBytes", "rows", "valid", "label"}` as one JSON line.
 *
 * The baseline is what a team would write first: csv-parse into zod, with a `Set` of key strings
 * for uniqueness, over the same file and the `readings` spec.
 */
import { createReadStream, statSync } from 'node:fs';
import { parse } from 'csv-parse';
import { z } from 'zod';
import { loadConfig } from '#config/load';
import { validateStream } from '#validation/validate';

interface Run {
  readonly rows: number;
  readonly valid: boolean;
  readonly label: string;
}

const [which, file] = process.argv.slice(2);
if ((which !== 'symbiont' && which !== 'baseline') || !file) {
  process.stderr.write('usage: tsx bench/validation-worker.ts symbiont|baseline <file>\n');
  process.exit(2);
}

const spec = loadConfig().config.datasets.readings;
if (!spec) throw new Error('the config has no "readings" dataset');

async function symbiont(path: string): Promise<Run> {
  // The size is announced as S3 announces an object's size to the ingest handler.
  const report = await validateStream(createReadStream(path, { highWaterMark: 1 << 20 }), spec!, { fileName: path, declaredBytes: statSync(path).size });
  return { rows: report.rows, valid: report.valid, label: 'symbiont validateStream' };
}

/** zod's ISO datetime does not check the calendar (2024-02-30 passes): the baseline adds that. */
const calendarDay = (value: string): boolean => {
  const date = new Date(value);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === new Date(`${value.slice(0, 10)}T00:00:00Z`).toISOString().slice(0, 10);
};

const rowSchema = z.object({
  sensor_id: z.string().regex(/^S[0-9]{4}$/),
  taken_at: z.iso.datetime({ offset: true }).refine(calendarDay),
  temperature: z.union([z.literal('').transform(() => null), z.coerce.number().finite().min(-60).max(60)]),
  status: z.enum(['ok', 'degraded', 'failed']),
});

async function baseline(path: string): Promise<Run> {
  const seen = new Set<string>();
  let rows = 0;
  let errors = 0;
  const check = (record: Record<string, string>): void => {
    rows++;
    const result = rowSchema.safeParse(record);
    if (!result.success) {
      errors++;
      return;
    }
    const key = `${result.data.sensor_id}\u0000${result.data.taken_at}`;
    if (seen.has(key)) errors++;
    else seen.add(key);
  };
  const parser = createReadStream(path).pipe(parse({ columns: true, bom: true }));
  for await (const record of parser) check(record as Record<string, string>);
  return { rows, valid: errors === 0, label: 'csv-parse + zod + Set' };
}

const started = performance.now();
const run = which === 'symbiont' ? await symbiont(file) : await baseline(file);
const seconds = (performance.now() - started) / 1000;
const maxRssBytes = process.resourceUsage().maxRSS * 1024;
process.stdout.write(`${JSON.stringify({ seconds, maxRssBytes, ...run })}\n`);
