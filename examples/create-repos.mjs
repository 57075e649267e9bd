#!/usr/bin/env node
/**
 * The worked example of continuous evaluation: creates two small git repositories, `features` and
 * `model`, the two stages of the `forecast` pipeline in symbiont.config.json, with a few commits
 * each (fixed author and dates, so the shas are the same on every machine). On `model`'s
 * `experiment` branch, one commit makes the forecast worse: evaluating it is flagged as a
 * regression of `mae` beyond the pipeline's 2% tolerance, and explains itself: the pipeline's
 * `onRegression` template (`diagnose`) renders a report comparing it with its baseline, reading the
 * per-row forecasts (`forecast.csv`) the model stage writes.
 *
 * When the local runtime runs (`npm start`), it also reports the default-branch heads to Symbiont
 * and uploads an example readings file if the dataset has no version yet; otherwise it prints the
 * commands that do.
 *
 *   node examples/create-repos.mjs [--dir examples/repos] [--no-report] [--data-dir .symbiont]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const { values: flags } = parseArgs({
  options: {
    dir: { type: 'string', default: join(here, 'repos') },
    'no-report': { type: 'boolean', default: false },
    'data-dir': { type: 'string', default: process.env.SYMBIONT_DATA_DIR || '.symbiont' },
    quiet: { type: 'boolean', default: false },
  },
});
const reposDir = resolve(flags.dir);
const say = (text = '') => flags.quiet || process.stdout.write(`${text}\n`);

// --- the stages, as they change from commit to commit -------------------------------------------

const groupBy = `
function groupBy(items, key) {
  const groups = new Map();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}`;

const readCsv = `
/** The readings file: sensor_id,taken_at,temperature,status (temperature empty when missing). */
function readReadings(file, { skipDegraded }) {
  const [, ...lines] = readFileSync(file, 'utf8').trim().split('\\n');
  return lines.map((line) => {
    const [sensor, takenAt, temperature, status] = line.split(',');
    const missing = temperature === '' || (skipDegraded && status === 'degraded');
    return { sensor, takenAt, value: missing ? null : Number(temperature) };
  });
}`;

const features = (skipDegraded) => `// Stage 1 of the forecast pipeline: per sensor, the rolling mean of the last \`window\` readings.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
${readCsv}
${groupBy}

const { window = 3 } = JSON.parse(process.env.SYMBIONT_PARAMS ?? '{}');
const rows = readReadings(process.env.SYMBIONT_INPUT, { skipDegraded: ${skipDegraded} });
const bySensor = groupBy(rows, (row) => row.sensor);
const out = ['sensor_id,taken_at,temperature,rolling_mean'];
for (const readings of bySensor.values()) {
  readings.sort((a, b) => (a.takenAt < b.takenAt ? -1 : 1));
  const recent = [];
  for (const { sensor, takenAt, value } of readings) {
    if (value !== null) {
      recent.push(value);
      if (recent.length > window) recent.shift();
    }
    const mean = recent.length ? recent.reduce((a, b) => a + b, 0) / recent.length : '';
    out.push([sensor, takenAt, value ?? '', mean].join(','));
  }
}
writeFileSync(join(process.env.SYMBIONT_OUTPUT, 'features.csv'), out.join('\\n') + '\\n');
console.log(\`features: \${out.length - 1} rows, window \${window}\`);
`;

const model = (forecast, comment) => `// Stage 2 of the forecast pipeline: forecast each sensor's next reading and score it (mae).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [, ...lines] = readFileSync(join(process.env.SYMBIONT_INPUT, 'features.csv'), 'utf8').trim().split('\\n');
const rows = lines.map((line) => {
  const [sensor, takenAt, temperature, mean] = line.split(',');
  return { sensor, takenAt, value: temperature === '' ? null : Number(temperature), mean: mean === '' ? null : Number(mean) };
});
${groupBy}

// ${comment}
const forecast = (row) => ${forecast};

let error = 0;
let count = 0;
const out = ['sensor_id,taken_at,forecast,actual'];
for (const readings of groupBy(rows, (row) => row.sensor).values()) {
  for (let i = 0; i + 1 < readings.length; i++) {
    const [now, next] = [readings[i], readings[i + 1]];
    if (now.value === null || now.mean === null || next.value === null) continue;
    const predicted = forecast(now);
    error += Math.abs(next.value - predicted);
    count += 1;
    out.push([next.sensor, next.takenAt, predicted.toFixed(3), next.value].join(','));
  }
}
if (count === 0) {
  console.error('model: no reading to forecast');
  process.exit(1);
}
writeFileSync(join(process.env.SYMBIONT_OUTPUT, 'forecast.csv'), out.join('\\n') + '\\n');
writeFileSync(join(process.env.SYMBIONT_OUTPUT, 'metrics.json'), JSON.stringify({ mae: error / count, forecasts: count }));
console.log(\`model: mae \${(error / count).toFixed(4)} over \${count} forecasts\`);
`;

const readme = (name, text) => `# ${name}\n\n${text}\n\nA stage of Symbiont's example \`forecast\` pipeline: reads \`$SYMBIONT_INPUT\`, writes to \`$SYMBIONT_OUTPUT\`, parameters in \`$SYMBIONT_PARAMS\`.\n`;

/** The history of both repositories, in the order it happened. */
const history = [
  {
    repo: 'features',
    message: 'features: rolling mean of temperature over `window` readings',
    files: { 'run.mjs': features(false), 'README.md': readme('features', 'Per sensor, the rolling mean of the last `window` temperature readings.') },
  },
  {
    repo: 'model',
    message: 'model: forecast the next reading with the rolling mean',
    files: { 'run.mjs': model('row.mean', 'The rolling mean: smooth, but late on a daily cycle.'), 'README.md': readme('model', 'Forecasts the next reading of each sensor; writes metrics.json with `mae`.') },
  },
  {
    repo: 'model',
    message: 'model: follow the trend: last reading plus half its distance from the rolling mean',
    files: { 'run.mjs': model('row.value + 0.5 * (row.value - row.mean)', 'The last reading, pushed along the trend it shows against the rolling mean.') },
  },
  {
    repo: 'features',
    message: 'features: treat degraded readings as missing',
    files: { 'run.mjs': features(true) },
  },
  {
    repo: 'model',
    branch: 'experiment',
    message: 'model: pull the forecast toward the rolling mean (smoother)',
    regresses: true,
    files: { 'run.mjs': model('0.8 * row.value + 0.2 * row.mean', 'Mostly the last reading, pulled toward the rolling mean to smooth it.') },
  },
];

// --- git -----------------------------------------------------------------------------------------

let clock = Date.UTC(2025, 0, 6, 9, 0, 0) / 1000;
function git(repo, args, extraEnv = {}) {
  return execFileSync('git', ['-C', join(reposDir, repo), '-c', 'commit.gpgsign=false', '-c', 'core.autocrlf=false', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Symbiont Example',
      GIT_AUTHOR_EMAIL: 'example@symbiont.invalid',
      GIT_COMMITTER_NAME: 'Symbiont Example',
      GIT_COMMITTER_EMAIL: 'example@symbiont.invalid',
      GIT_CONFIG_NOSYSTEM: '1',
      HOME: reposDir,
      ...extraEnv,
    },
  }).trim();
}

for (const repo of ['features', 'model']) {
  rmSync(join(reposDir, repo), { recursive: true, force: true });
  mkdirSync(join(reposDir, repo), { recursive: true });
  git(repo, ['init', '--quiet', '--initial-branch=main']);
}
const shas = [];
for (const step of history) {
  const branch = step.branch ?? 'main';
  if (branch !== 'main') git(step.repo, ['checkout', '--quiet', '-B', branch]);
  for (const [file, text] of Object.entries(step.files)) writeFileSync(join(reposDir, step.repo, file), text);
  git(step.repo, ['add', '-A']);
  clock += 3600;
  const date = `${clock} +0000`;
  git(step.repo, ['commit', '--quiet', '-m', step.message], { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date });
  shas.push({ ...step, branch, sha: git(step.repo, ['rev-parse', 'HEAD']) });
  if (branch !== 'main') git(step.repo, ['checkout', '--quiet', 'main']);
}
const heads = Object.fromEntries(['features', 'model'].map((repo) => [repo, git(repo, ['rev-parse', 'main'])]));
const regressing = shas.find((s) => s.regresses);

say(`Created ${relative(process.cwd(), reposDir) || reposDir}/features and /model:`);
for (const s of shas) say(`  ${s.repo.padEnd(8)} ${s.branch.padEnd(10)} ${s.sha.slice(0, 12)}  ${s.message}${s.regresses ? '   <- regresses mae' : ''}`);
say();
say('Default-branch heads:');
for (const [repo, sha] of Object.entries(heads)) say(`  ${repo.padEnd(8)} ${sha}`);

// --- tell the local runtime ------------------------------------------------------------------------

const reportCommands = Object.entries(heads).map(([repo, sha]) => `npx symbiont commits report ${repo} ${sha}`);
const next = [
  'npx symbiont evaluations run forecast --wait',
  `npx symbiont evaluations run forecast --commit model@${regressing.sha.slice(0, 12)} --wait   # the regressing commit`,
  'npx symbiont evaluations list --pipeline forecast',
  'npx symbiont evaluations show <evaluationId>   # a regression links to its diagnose report (symbiont reports open <reportId>)',
];

async function report() {
  const endpointsFile = resolve(flags['data-dir'], 'endpoints.json');
  if (flags['no-report'] || !existsSync(endpointsFile)) return false;
  const endpoints = JSON.parse(readFileSync(endpointsFile, 'utf8'));
  const call = async (method, path, body) => {
    const response = await fetch(`${endpoints.api}${path}`, {
      method,
      headers: { authorization: `Bearer ${endpoints.tokens.admin}`, 'content-type': 'application/json' },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const answer = await response.json();
    if (!response.ok) throw new Error(`${method} ${path}: ${answer.error?.message ?? response.status}`);
    return answer;
  };
  try {
    await call('GET', '/health');
  } catch {
    return false;
  }
  // Every commit is reported (the experiment one too, so a short sha finds it); main's in order, so the heads end where main is.
  for (const s of shas) {
    const pushedAt = new Date(Date.UTC(2025, 0, 6, 9, 0, 0) + shas.indexOf(s) * 60_000).toISOString();
    await call('POST', '/commits', { repository: s.repo, sha: s.sha, branch: s.branch, pushedAt });
  }
  say();
  say(`Reported the commits to ${endpoints.api}; the heads are main's.`);
  const dataset = await call('GET', '/datasets/readings');
  if (!dataset.latest) {
    const { S3Client, PutObjectCommand } = await import('@aws-sdk/client-s3');
    const s3 = new S3Client({
      endpoint: endpoints.s3,
      region: endpoints.region,
      credentials: endpoints.credentials,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
    });
    const file = 'readings-2025-01-06.csv';
    await s3.send(
      new PutObjectCommand({ Bucket: endpoints.buckets.landing, Key: `api/readings/example/${file}`, Body: readFileSync(join(here, 'data', file)), ContentType: 'text/csv' }),
    );
    s3.destroy();
    say(`Uploaded examples/data/${file} to readings (it becomes a version in a moment: npx symbiont datasets versions readings).`);
  }
  return true;
}

const reported = await report().catch((error) => {
  process.stderr.write(`could not report to the local runtime: ${error.message}\n`);
  return false;
});
say();
if (!reported) {
  say('Start the local runtime (npm start), upload a readings file, then report the heads:');
  for (const command of reportCommands) say(`  ${command}`);
  say();
}
say('Then:');
for (const command of next) say(`  ${command}`);
