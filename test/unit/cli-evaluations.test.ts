import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../cli/main.ts';
import { captureIo, startScriptedApi, type ScriptEntry, type ScriptedRequest } from './cli-fixtures.ts';
import { evaluationRecord } from './evaluation-record-fixtures.ts';

/**
 * `symbiont commits …` and `symbiont evaluations …` against a fake API on a loopback port that
 * keeps each request (with its body) and answers from a script.
 */

const sha = (c: string) => c.repeat(40);
const evaluation = (overrides: Record<string, unknown> = {}) => ({
  ...evaluationRecord({
    evaluationId: '01JD8X5Q3ZHEADHEADHEADHEAD',
    requestId: '01JD8X5Q3ZREQUESTREQUESTRE',
    commitSet: { features: sha('a'), model: sha('c') },
    baselineEvaluationId: '01JD8X5Q3ZBASEBASEBASEBASE',
    scores: { mae: { mean: 1.3365, values: [1.3365] } },
    comparison: { mae: { goal: 'min', base: 1.0525, head: 1.3365, delta: 0.284, relativeDelta: 0.2698, allowed: 0.02105, verdict: 'regressed' } },
    verdict: 'regressed',
    regressed: true,
    updatedAt: '2025-01-06T09:00:01.000Z',
  }),
  ...overrides,
});
const request = (overrides: Record<string, unknown> = {}) => ({
  requestId: '01JD8X5Q3ZREQUESTREQUESTRE',
  pipeline: 'forecast',
  reason: 'manual',
  hash: 'f'.repeat(64),
  rerun: 0,
  commitSets: [{ features: sha('a'), model: sha('c') }],
  datasetVersions: [{ dataset: 'readings', version: 1 }],
  parameterPoints: [{ window: 3 }],
  repeats: 1,
  baselineCommitSet: { features: sha('a'), model: sha('b') },
  total: 2,
  done: 0,
  failed: 0,
  cancelled: 0,
  regressed: 0,
  executions: [`forecast-${'f'.repeat(40)}`],
  partsFinished: 0,
  status: 'queued',
  createdBy: 'local-admin',
  createdAt: '2025-01-06T09:00:00.000Z',
  updatedAt: '2025-01-06T09:00:00.000Z',
  ...overrides,
});

const seen: ScriptedRequest[] = [];
const answers: ScriptEntry[] = [];
let api: { url: string; close: () => Promise<void> };

beforeAll(async () => {
  api = await startScriptedApi(seen, answers);
});

afterAll(async () => {
  await api.close();
});

beforeEach(() => {
  seen.length = 0;
  answers.length = 0;
});

const at = ['--api', 'placeholder', '--token', 'admin-token-0123456789abcdef'];
const args = (...command: string[]) => [...command, ...at.map((a) => (a === 'placeholder' ? api.url : a))];

describe('commits report', () => {
  it('posts the commit and says the head moved', async () => {
    // Prepare
    answers.push((s) =>
      s.path === '/commits'
        ? {
            status: 201,
            body: {
              commit: { repository: 'model', sha: sha('c'), branch: 'main', pushedAt: '2025-01-06T09:00:00.000Z', source: 'api', reportedBy: 'local-admin', recordedAt: '2025-01-06T09:00:00.000Z' },
              created: true,
              headMoved: true,
              head: { repository: 'model', sha: sha('c'), branch: 'main', seq: 3, pushedAt: '2025-01-06T09:00:00.000Z', movedAt: '2025-01-06T09:00:00.000Z' },
              queued: true,
            },
          }
        : undefined,
    );
    const { io, stdout } = captureIo();

    // Act
    const code = await run(args('commits', 'report', 'model', sha('C')), io);

    // Assess
    expect(code).toBe(0);
    expect(seen[0]).toMatchObject({ method: 'POST', path: '/commits', body: { repository: 'model', sha: sha('c') } });
    expect(stdout()).toMatch(new RegExp(`head\\s+${sha('c')} \\(moved; #3\\)`));
  });
});

describe('commits list', () => {
  it('asks for the repository’s commits and prints each with its verdicts counted', async () => {
    // Prepare
    const commit = (c: string, branch: string) => ({ repository: 'model', sha: sha(c), branch, pushedAt: '2025-01-06T09:00:00.000Z', source: 'github', deliveryId: 'd', recordedAt: '2025-01-06T09:00:00.000Z' });
    const judged = (verdict: string) => ({ evaluationId: 'E', requestId: 'R', pipeline: 'forecast', dataset: 'readings', version: 1, parameters: {}, status: 'succeeded', verdict, createdAt: '2025-01-06T09:00:00.000Z' });
    answers.push((s) =>
      s.path === '/commits'
        ? { status: 200, body: { items: [{ ...commit('e', 'experiment'), evaluations: [judged('regressed'), judged('regressed')] }, { ...commit('c', 'main'), evaluations: [] }], cursor: 'next' } }
        : undefined,
    );
    const { io, stdout, stderr } = captureIo();

    // Act
    const code = await run(args('commits', 'list', 'model', '--limit', '2'), io);

    // Assess
    expect(code).toBe(0);
    expect(seen[0]).toMatchObject({ method: 'GET', path: '/commits', query: { repository: 'model', limit: '2' } });
    expect(stdout()).toMatch(new RegExp(`${sha('e').slice(0, 12)}\\s+experiment\\s+github.*2 regressed`));
    expect(stdout()).toMatch(/\(none\)/);
    expect(stderr()).toContain('symbiont commits list model --cursor next');
  });
});

describe('evaluations run', () => {
  it('asks for the commits, dataset versions and parameter values given', async () => {
    // Prepare
    answers.push((s) => (s.path === '/evaluations' ? { status: 202, body: { request: request(), created: true } } : undefined));
    const { io, stdout } = captureIo();

    // Act
    const code = await run(args('evaluations', 'run', 'forecast', '--commit', 'model@CCCCCCC', '--dataset', 'readings@v2', '--param', 'window=3,7', '--param', 'smooth=true'), io);

    // Assess
    expect(code).toBe(0);
    expect(seen[0]!.body).toEqual({
      pipeline: 'forecast',
      commitSets: [{ model: 'ccccccc' }],
      datasetVersions: [{ dataset: 'readings', version: 2 }],
      parameters: { window: [3, 7], smooth: [true] },
    });
    expect(stdout()).toMatch(/request\s+01JD8X5Q3ZREQUESTREQUESTRE/);
  });

  it('waits for the request and lists its evaluations with their verdicts', async () => {
    // Prepare
    let polls = 0;
    answers.push((s) => (s.path === '/evaluations' && s.method === 'POST' ? { status: 202, body: { request: request(), created: true } } : undefined));
    answers.push((s) =>
      s.path.startsWith('/evaluations/requests/')
        ? { status: 200, body: request(++polls < 2 ? { status: 'running', done: 1 } : { status: 'finished', done: 2, regressed: 1 }) }
        : undefined,
    );
    answers.push((s) => (s.path === '/evaluations' && s.method === 'GET' ? { status: 200, body: { items: [evaluation()] } } : undefined));
    const { io, stdout, stderr } = captureIo();

    // Act
    const code = await run(args('evaluations', 'run', 'forecast', '--wait'), io);

    // Assess
    expect(code).toBe(0);
    expect(seen.find((s) => s.method === 'GET' && s.path === '/evaluations')?.query).toMatchObject({ request: '01JD8X5Q3ZREQUESTREQUESTRE' });
    expect(stdout()).toMatch(/01JD8X5Q3ZHEADHEADHEADHEAD\s+succeeded\s+features@aaaaaaaaaaaa model@cccccccccccc\s+readings@1\s+window=3\s+mae=1.3365\s+mae \+27.0%\s+REGRESSED/);
    expect(stderr()).toMatch(/finished: 2 of 2 done \(2 succeeded, 1 regressed\)/);
  });

  it('refuses a --commit that is not repo@sha, without calling the API', async () => {
    // Prepare
    const { io, stderr } = captureIo();

    // Act
    const code = await run(args('evaluations', 'run', 'forecast', '--commit', 'model'), io);

    // Assess
    expect(code).toBe(2);
    expect(stderr()).toMatch(/"model" is not repo@sha/);
    expect(seen).toEqual([]);
  });
});

describe('evaluations compare', () => {
  it('asks for base and head and prints each metric with both values, the delta and the verdict', async () => {
    // Prepare
    answers.push((s) =>
      s.path === '/compare'
        ? {
            status: 200,
            body: {
              pipeline: 'forecast',
              head: evaluation(),
              base: evaluation({ evaluationId: '01JD8X5Q3ZBASEBASEBASEBASE', commitSet: { features: sha('a'), model: sha('b') } }),
              metrics: evaluation().comparison,
              verdict: 'regressed',
              regressed: true,
            },
          }
        : undefined,
    );
    const { io, stdout } = captureIo();

    // Act
    const code = await run(args('evaluations', 'compare', '01JD8X5Q3ZBASEBASEBASEBASE', '01JD8X5Q3ZHEADHEADHEADHEAD'), io);

    // Assess
    expect(code).toBe(0);
    expect(seen[0]!.query).toEqual({ base: '01JD8X5Q3ZBASEBASEBASEBASE', head: '01JD8X5Q3ZHEADHEADHEADHEAD' });
    expect(stdout()).toMatch(/mae \(lower is better\)\s+1\.0525\s+1\.3365\s+\+0\.284\s+\+27\.0%\s+±0\.02105\s+REGRESSED/);
  });
});

describe('evaluations show', () => {
  it('prints the diagnostic report of a regression: status, template, id and the link to its HTML', async () => {
    // Prepare
    const report = { status: 'succeeded', reportId: '01JD8X5Q3ZREPORTREPORTREPO', template: 'diagnose', html: 'http://127.0.0.1:4569/data/reports/01JD8X5Q3ZREPORTREPORTREPO/report.html?X-Amz-Signature=s' };
    answers.push((s) => (s.path === '/evaluations/01JD8X5Q3ZHEADHEADHEADHEAD' ? { status: 200, body: evaluation({ report }) } : undefined));
    const { io, stdout } = captureIo();

    // Act
    const code = await run(args('evaluations', 'show', '01JD8X5Q3ZHEADHEADHEADHEAD'), io);

    // Assess
    expect(code).toBe(0);
    expect(stdout()).toMatch(/report\s+succeeded, template diagnose, report 01JD8X5Q3ZREPORTREPORTREPO\n/);
    expect(stdout()).toContain(`report html  ${report.html}`);
  });

  it('prints why a diagnostic report could not be made', async () => {
    // Prepare
    const report = { status: 'failed', template: 'diagnose', reason: 'no template is named diagnose (registered: explore)' };
    answers.push((s) => (s.path === '/evaluations/01JD8X5Q3ZHEADHEADHEADHEAD' ? { status: 200, body: evaluation({ report }) } : undefined));
    const { io, stdout } = captureIo();

    // Act
    const code = await run(args('evaluations', 'show', '01JD8X5Q3ZHEADHEADHEADHEAD'), io);

    // Assess
    expect(code).toBe(0);
    expect(stdout()).toMatch(/report\s+failed, template diagnose: no template is named diagnose \(registered: explore\)/);
  });
});

describe('evaluations show --artifacts', () => {
  it('lists each stage run’s files with sizes and download URLs, and says when a stage wrote none', async () => {
    // Prepare
    const id = '01JD8X5Q3ZHEADHEADHEADHEAD';
    const url = 'http://127.0.0.1:4569/data/evaluations/x/r1/2-model/output/forecast.csv?X-Amz-Signature=s';
    answers.push((s) => (s.path === `/evaluations/${id}` ? { status: 200, body: evaluation() } : undefined));
    answers.push((s) =>
      s.path === `/evaluations/artifacts/${id}`
        ? {
            status: 200,
            body: {
              evaluationId: id,
              expiresAt: '2025-01-07T10:15:00.000Z',
              stages: [
                { repeat: 0, stage: 0, name: 'features', prefix: `evaluations/${id}/r1/1-features/output/`, files: [], truncated: false },
                { repeat: 0, stage: 1, name: 'model', prefix: `evaluations/${id}/r1/2-model/output/`, files: [{ name: 'forecast.csv', size: 2345, url }], truncated: true },
              ],
            },
          }
        : undefined,
    );
    const { io, stdout } = captureIo();

    // Act
    const code = await run(args('evaluations', 'show', id, '--artifacts'), io);

    // Assess
    expect(code).toBe(0);
    expect(stdout()).toContain('artifacts of features, repeat 1: no files\n');
    expect(stdout()).toMatch(new RegExp(`artifacts of model, repeat 1:\\n\\s+2\\.3 KiB  forecast\\.csv  ${url.replace(/[.?]/g, '\\$&')}\\n`));
    expect(stdout()).toContain(`(the first 1; the rest are under evaluations/${id}/r1/2-model/output/)`);
  });
});

describe('evaluations backfill, sweep, cancel, rerun', () => {
  it('backfills a commit range × a version range with the reason backfill', async () => {
    // Prepare
    answers.push((s) => (s.path === '/evaluations' ? { status: 202, body: { request: request({ reason: 'backfill', total: 14 }), created: true } } : undefined));
    const { io } = captureIo();

    // Act
    const code = await run(args('evaluations', 'backfill', 'forecast', '--repository', 'model', '--from', '3f2a9c1', '--to', '9c1e5b0', '--dataset', 'readings@3..9', '--param', 'window=3'), io);

    // Assess
    expect(code).toBe(0);
    expect(seen[0]!.body).toEqual({
      pipeline: 'forecast',
      commits: { repository: 'model', from: '3f2a9c1', to: '9c1e5b0' },
      datasetVersions: [{ dataset: 'readings', from: 3, to: 9 }],
      parameters: { window: [3] },
      reason: 'backfill',
    });
  });

  it('refuses a backfill with neither --last nor --from, before asking', async () => {
    // Prepare
    const { io, stderr } = captureIo();

    // Act
    const code = await run(args('evaluations', 'backfill', 'forecast', '--repository', 'model'), io);

    // Assess
    expect(code).not.toBe(0);
    expect(seen).toEqual([]);
    expect(stderr()).toContain('give --last <n>, or --from <sha>');
  });

  it('sweeps ranges and lists, and shows the best points of the finished request', async () => {
    // Prepare
    const best = { evaluationId: '01JD8X5Q3ZBESTBESTBESTBEST', commitSet: { model: sha('c') }, dataset: 'readings', version: 1, parameters: { alpha: 0.3, window: 5 }, mean: 0.91, n: 1 };
    const finished = request({ reason: 'sweep', status: 'finished', total: 2, done: 2, summary: { mae: { goal: 'min', best: [best] } } });
    answers.push((s) => (s.path === '/evaluations' && s.method === 'POST' ? { status: 202, body: { request: request({ reason: 'sweep' }), created: true } } : undefined));
    answers.push((s) => (s.path.startsWith('/evaluations/requests/') ? { status: 200, body: finished } : undefined));
    answers.push((s) => (s.path === '/evaluations' ? { status: 200, body: { items: [evaluation()] } } : undefined));
    const { io, stdout } = captureIo();

    // Act
    const code = await run(args('evaluations', 'sweep', 'forecast', '--param', 'alpha=0.1..0.3:0.1', '--param', 'window=3,5', '--wait'), io);

    // Assess
    expect(code).toBe(0);
    expect(seen[0]!.body).toEqual({ pipeline: 'forecast', parameters: { alpha: { from: 0.1, to: 0.3, step: 0.1 }, window: [3, 5] }, reason: 'sweep' });
    expect(stdout()).toMatch(/mae \(lower is better\)\s+1\s+0\.91\s+alpha=0\.3 window=5/);
  });

  it('cancels a request and reruns an evaluation', async () => {
    // Prepare
    answers.push((s) => (s.path.endsWith('/cancel') ? { status: 200, body: { request: request({ status: 'cancelled', done: 1, cancelled: 1 }), cancelled: true } } : undefined));
    answers.push((s) => (s.path === '/evaluations/reruns' ? { status: 202, body: { request: request({ reason: 'rerun' }), created: true } } : undefined));
    const { io, stdout } = captureIo();

    // Act
    const cancelled = await run(args('evaluations', 'cancel', '01JD8X5Q3ZREQUESTREQUESTRE'), io);
    const rerun = await run(args('evaluations', 'rerun', '01JD8X5Q3ZHEADHEADHEADHEAD'), io);

    // Assess
    expect([cancelled, rerun]).toEqual([0, 0]);
    expect(seen.map((s) => `${s.method} ${s.path}`)).toEqual(['POST /evaluations/requests/01JD8X5Q3ZREQUESTREQUESTRE/cancel', 'POST /evaluations/reruns']);
    expect(seen[1]!.body).toEqual({ evaluationId: '01JD8X5Q3ZHEADHEADHEADHEAD' });
    expect(stdout()).toContain('Cancelled. cancelled: 2 of 2 done (1 succeeded, 1 cancelled)');
  });
});
