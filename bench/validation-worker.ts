/**
 * One validation run in its own process, so that its peak RSS is its own:
 * `node validation-worker.mjs <engine> readings|mixed <file>` prints
 * `{"seconds", "cpuSeconds", "maxRssBytes", "rows", "valid", "label"}` as one JSON line
 * (bench/validation.ts bundles this file with esbuild and runs the bundle with node, as a Lambda
 * function runs; `tsx` would add its own ~35 MB to every peak RSS).
 *
 * Engines: `symbiont` (validateStream reading the file as a stream, gzip or not),
 * `symbiont-gunzip-here` (the same with gzip inflated on the main thread), `gunzip` (only
 * inflating the file: the floor for gzip input), `csv-parse` (what a team would write first:
 * csv-parse into zod with a `Set` of keys), and `duckdb` (DuckDB on one thread: a typed
 * `read_csv`, every check as an aggregate and a distinct count of the key).
 */
import { createReadStream, statSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { parse } from 'csv-parse';
import { z } from 'zod';
import { datasetSpecSchema, type DatasetSpec } from '#config/schema';
import { loadConfig } from '#config/load';
import { validateStream } from '#validation/validate';

interface Run {
  readonly rows: number;
  readonly valid: boolean;
  readonly label: string;
}

/**
 * The 10 mixed columns of the second benchmark file (bench/validation.ts writes it): every type, a pattern, an enum, ranges,
 * nullable columns, quoted values with commas and non-ASCII text, and a unique integer key.
 */
const mixedSpec: DatasetSpec = datasetSpecSchema.parse({
  format: 'csv',
  columns: [
    { name: 'id', type: 'integer', min: 1, nullable: false },
    { name: 'customer', type: 'string', pattern: '^C[0-9]{6}$', nullable: false },
    { name: 'created_at', type: 'timestamp', nullable: false },
    { name: 'shipped_on', type: 'date', nullable: true },
    { name: 'amount', type: 'number', min: 0, max: 100_000, nullable: false },
    { name: 'quantity', type: 'integer', min: 1, max: 1000, nullable: false },
    { name: 'currency', type: 'string', enum: ['EUR', 'USD', 'GBP', 'CHF'], nullable: false },
    { name: 'express', type: 'boolean', nullable: false },
    { name: 'country', type: 'string', pattern: '^[A-Z]{2}$', nullable: false },
    { name: 'note', type: 'string', maxLength: 80, nullable: true },
  ],
  unique: ['id'],
});

function specOf(name: string): DatasetSpec {
  if (name === 'mixed') return mixedSpec;
  const spec = loadConfig().config.datasets[name];
  if (!spec) throw new Error(`the config has no "${name}" dataset`);
  return spec;
}

async function symbiont(path: string, spec: DatasetSpec, inflateOffThread?: boolean): Promise<Run> {
  // The size is announced as S3 announces an object's size to the ingest handler.
  const options = { fileName: path, declaredBytes: statSync(path).size, ...(inflateOffThread === undefined ? {} : { inflateOffThread }) };
  const report = await validateStream(createReadStream(path, { highWaterMark: 1 << 20 }), spec, options);
  if (!report.valid) process.stderr.write(`${JSON.stringify(report.countsByRule)} ${JSON.stringify(report.examples.slice(0, 3))}\n`);
  return { rows: report.rows, valid: report.valid, label: 'symbiont validateStream' };
}

async function gunzip(path: string): Promise<Run> {
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }).pipe(createGunzip())) bytes += (chunk as Buffer).length;
  return { rows: bytes, valid: true, label: 'node zlib gunzip alone' };
}

/** zod's ISO datetime does not check the calendar (2024-02-30 passes): the baseline adds that. */
const calendarDay = (value: string): boolean => {
  const date = new Date(value);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === new Date(`${value.slice(0, 10)}T00:00:00Z`).toISOString().slice(0, 10);
};

const readingsRow = z.object({
  sensor_id: z.string().regex(/^S[0-9]{4}$/),
  taken_at: z.iso.datetime({ offset: true }).refine(calendarDay),
  temperature: z.union([z.literal('').transform(() => null), z.coerce.number().finite().min(-60).max(60)]),
  status: z.enum(['ok', 'degraded', 'failed']),
});

async function csvParse(path: string, specName: string): Promise<Run> {
  if (specName !== 'readings') throw new Error('the csv-parse baseline is written for the readings spec');
  const seen = new Set<string>();
  let rows = 0;
  let errors = 0;
  const parser = createReadStream(path).pipe(parse({ columns: true, bom: true }));
  for await (const record of parser) {
    rows++;
    const result = readingsRow.safeParse(record);
    if (!result.success) {
      errors++;
      continue;
    }
    const key = `${result.data.sensor_id}\u0000${result.data.taken_at}`;
    if (seen.has(key)) errors++;
    else seen.add(key);
  }
  return { rows, valid: errors === 0, label: 'csv-parse + zod + Set' };
}

/** The spec as DuckDB SQL: typed columns, each check a count of failing rows, and the key's distinct count. */
function duckdbQuery(path: string, spec: DatasetSpec): string {
  const sqlType = { string: 'VARCHAR', integer: 'BIGINT', number: 'DOUBLE', boolean: 'BOOLEAN', date: 'DATE', timestamp: 'TIMESTAMPTZ' } as const;
  const quote = (text: string): string => `'${text.replaceAll("'", "''")}'`;
  const columns = spec.columns.map((c) => `${quote(c.name)}: ${quote(sqlType[c.type])}`).join(', ');
  const failures = spec.columns.flatMap((c) => {
    const name = `"${c.name}"`;
    const checks: string[] = [];
    if (!c.nullable) checks.push(`${name} IS NULL`);
    if (c.min !== undefined) checks.push(`${name} < ${c.min}`);
    if (c.max !== undefined) checks.push(`${name} > ${c.max}`);
    if (c.enum) checks.push(`${name} NOT IN (${c.enum.map(quote).join(', ')})`);
    if (c.pattern) checks.push(`NOT regexp_full_match(${name}, ${quote(c.pattern.replace(/^\^|\$$/g, ''))})`);
    if (c.maxLength !== undefined) checks.push(`length(${name}) > ${c.maxLength}`);
    return checks.map((check) => `count(*) FILTER (WHERE ${check})`);
  });
  const key = (spec.unique ?? []).map((name) => `"${name}"`).join(', ');
  return `SELECT count(*) AS rows, ${failures.join(' + ')} AS failures, count(DISTINCT (${key})) AS keys
    FROM read_csv(${quote(path)}, header = true, auto_detect = false, columns = {${columns}})`;
}

async function duckdb(path: string, spec: DatasetSpec): Promise<Run> {
  // Imported by name at run time: the baseline is optional and the bundle leaves it external.
  const name = '@duckdb/node-api';
  const { DuckDBInstance } = (await import(name)) as {
    DuckDBInstance: { create(path: string, options: Record<string, string>): Promise<{ connect(): Promise<{ runAndReadAll(sql: string): Promise<{ getRows(): unknown[][] }> }> }> };
  };
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  const reader = await connection.runAndReadAll(duckdbQuery(path, spec));
  const [rows, failures, keys] = (reader.getRows()[0] ?? []).map(Number) as [number, number, number];
  return { rows, valid: failures === 0 && keys === rows, label: 'DuckDB, 1 thread' };
}

const [engine, specName, file] = process.argv.slice(2);
if (!engine || !specName || !file) {
  process.stderr.write('usage: validation-worker symbiont|symbiont-gunzip-here|gunzip|csv-parse|duckdb readings|mixed <file>\n');
  process.exit(2);
}
const spec = specOf(specName);
const started = performance.now();
const cpu = process.cpuUsage();
const run =
  engine === 'symbiont' ? await symbiont(file, spec)
  : engine === 'symbiont-gunzip-here' ? await symbiont(file, spec, false)
  : engine === 'gunzip' ? await gunzip(file)
  : engine === 'csv-parse' ? await csvParse(file, specName)
  : engine === 'duckdb' ? await duckdb(file, spec)
  : undefined;
if (!run) throw new Error(`unknown engine ${engine}`);
const seconds = (performance.now() - started) / 1000;
const used = process.cpuUsage(cpu);
const maxRssBytes = process.resourceUsage().maxRSS * 1024;
process.stdout.write(`${JSON.stringify({ seconds, cpuSeconds: (used.user + used.system) / 1e6, maxRssBytes, ...run })}\n`);
