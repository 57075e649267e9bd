import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { commitVerdict, comparisonTable, githubRepositoryOf, postResults } from '#evaluation/github-results';
import type { EvaluationRecord, RequestRecord } from '#store/evaluations';

const sha = 'a'.repeat(40);
const head = 'b'.repeat(40);
const evaluation = (over: Partial<EvaluationRecord>): EvaluationRecord =>
  ({
    evaluationId: '01JD8X5Q3ZC9W8M2V7K4T6R1YB',
    requestId: '01JD8X5Q3ZC9W8M2V7K4T6R1YC',
    pipeline: 'lab',
    part: 1,
    phase: 'candidate',
    commitSet: { lab: sha },
    commitSetId: 'c'.repeat(64),
    isBaselineCommitSet: false,
    dataset: 'readings',
    version: 2,
    parameters: { x: 3 },
    pointHash: 'p',
    repeats: 1,
    status: 'succeeded',
    verdict: 'unchanged',
    comparison: { mae: { goal: 'min', base: 1, head: 1.004, delta: 0.004, verdict: 'unchanged' } },
    artifactsPrefix: 'evaluations/x/',
    createdAt: '2026-11-28T00:00:00.000Z',
    updatedAt: '2026-11-28T00:00:00.000Z',
    startedAt: '2026-11-28T00:00:00.000Z',
    ...over,
  }) as EvaluationRecord;
const request = { requestId: '01JD8X5Q3ZC9W8M2V7K4T6R1YC', pipeline: 'lab', commitSets: [{ lab: sha }], baselineCommitSet: { lab: head } } as unknown as RequestRecord;
const config = (apiUrl: string) => ({
  repositories: { lab: { url: 'https://github.com/acme/lab.git', defaultBranch: 'main', pullRequestComments: false } },
  pipelines: {},
  github: { apiUrl },
});

describe('results on GitHub', () => {
  it('reads owner and repository from github.com URLs only', () => {
    // Assess
    expect(githubRepositoryOf('https://github.com/acme/lab.git')).toEqual({ owner: 'acme', repo: 'lab' });
    expect(githubRepositoryOf('https://github.com/acme/lab')).toEqual({ owner: 'acme', repo: 'lab' });
    expect(githubRepositoryOf('https://gitlab.com/acme/lab')).toBeUndefined();
  });

  it('says failure for a regression, error for a failed evaluation, else success', () => {
    // Assess
    expect(commitVerdict([evaluation({}), evaluation({ regressed: true, verdict: 'regressed' })])).toEqual({ state: 'failure', description: '2 evaluated: 1 regressed, 1 unchanged' });
    expect(commitVerdict([evaluation({ status: 'failed', verdict: undefined })]).state).toBe('error');
    expect(commitVerdict([evaluation({ verdict: 'improved' })])).toEqual({ state: 'success', description: '1 evaluated: 1 improved' });
  });

  it('tables each metric with base, head, delta and verdict', () => {
    // Act
    const table = comparisonTable('lab', sha, [evaluation({})], 'http://x/r');

    // Assess
    expect(table).toContain('| readings v2 | x=3 | mae (min) | 1 | 1.004 | 0.004 | unchanged |');
    expect(table).toContain('[The request in Symbiont](http://x/r)');
  });

  it('posts nothing without a token, and a status per evaluated commit with one', async () => {
    // Arrange
    const calls: string[] = [];
    const server = createServer((req, res) => {
      calls.push(`${req.method} ${req.url}`);
      req.resume();
      req.on('end', () => res.writeHead(201, { 'content-type': 'application/json' }).end('{}'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // The baseline commit set's sha beside a candidate is not judged by the candidate.
    const evaluations = [evaluation({}), evaluation({ commitSet: { lab: head }, isBaselineCommitSet: true, phase: 'baseline' })];

    try {
      // Act
      const off = await postResults(request, evaluations, { config: config(apiUrl), token: async () => undefined });
      const on = await postResults(request, evaluations, { config: config(apiUrl), token: async () => 't' });

      // Assess
      expect(off).toEqual({ statuses: 0, comments: 0 });
      expect(on).toEqual({ statuses: 2, comments: 0 });
      expect(calls.sort()).toEqual([`POST /repos/acme/lab/statuses/${sha}`, `POST /repos/acme/lab/statuses/${head}`]);
    } finally {
      server.close();
    }
  });
});
