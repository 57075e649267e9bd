import { Octokit } from '@octokit/rest';
import type { SymbiontConfig } from '#config/schema';
import { logger } from '#shared/observability';
import type { EvaluationRecord, RequestRecord } from '#store/evaluations';

/**
 * Results back on GitHub. When a part of a request finishes, each evaluated commit of a repository
 * whose `url` is on github.com gets a commit status — context `symbiont/<pipeline>`, `failure`
 * when one of its evaluations regressed, `error` when one failed, else `success`, with the verdicts
 * as its description and a link to the request — and, for repositories with
 * `pullRequestComments: true`, every open pull request holding the commit gets a comment with the
 * comparison table. Off without a token; a failure to post is logged and never fails the part.
 */

export interface GithubResultsDeps {
  readonly config: Pick<SymbiontConfig, 'repositories' | 'pipelines' | 'github'>;
  /** The token; `undefined` (or empty): nothing is posted. */
  readonly token: () => Promise<string | undefined>;
  /** The public API URL, for the default link of a status. */
  readonly publicApiUrl?: string;
}

/** What one post did. */
export interface PostedResults {
  readonly statuses: number;
  readonly comments: number;
}

export type CommitState = 'success' | 'failure' | 'error';

/** `owner/repo` of a github.com URL (`https://github.com/acme/lab(.git)`), else `undefined`. */
export function githubRepositoryOf(url: string): { owner: string; repo: string } | undefined {
  const match = /^https:\/\/(?:www\.)?github\.com\/([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?\/?$/.exec(url);
  return match ? { owner: match[1]!, repo: match[2]! } : undefined;
}

/** The state and description of one commit's evaluations. */
export function commitVerdict(evaluations: readonly EvaluationRecord[]): { state: CommitState; description: string } {
  const count = (f: (e: EvaluationRecord) => boolean) => evaluations.filter(f).length;
  const failed = count((e) => e.status === 'failed');
  const regressed = count((e) => e.regressed === true);
  const improved = count((e) => e.verdict === 'improved');
  const unchanged = count((e) => e.verdict === 'unchanged');
  const state: CommitState = regressed > 0 ? 'failure' : failed > 0 ? 'error' : 'success';
  const parts = [
    regressed ? `${regressed} regressed` : '',
    failed ? `${failed} failed` : '',
    improved ? `${improved} improved` : '',
    unchanged ? `${unchanged} unchanged` : '',
  ].filter(Boolean);
  // GitHub keeps at most 140 characters of a description.
  return { state, description: `${evaluations.length} evaluated${parts.length ? `: ${parts.join(', ')}` : ''}`.slice(0, 140) };
}

const format = (value: number | undefined) => (value === undefined ? '–' : String(Number(value.toPrecision(4))));

/** The comparison table of a commit's evaluations, in Markdown. */
export function comparisonTable(pipeline: string, sha: string, evaluations: readonly EvaluationRecord[], link?: string): string {
  const rows = evaluations.flatMap((e) => {
    const where = `${e.dataset} v${e.version}`;
    const parameters = Object.entries(e.parameters).map(([k, v]) => `${k}=${String(v)}`).join(' ') || '–';
    if (e.status !== 'succeeded') return [`| ${where} | ${parameters} | – | – | – | – | ${e.status} |`];
    return Object.entries(e.comparison ?? {}).map(
      ([metric, c]) => `| ${where} | ${parameters} | ${metric} (${c.goal}) | ${format(c.base)} | ${format(c.head)} | ${format(c.delta)} | ${c.verdict} |`,
    );
  });
  return [
    `**Symbiont** — pipeline \`${pipeline}\` at \`${sha.slice(0, 12)}\`: ${commitVerdict(evaluations).description}`,
    '',
    '| dataset | parameters | metric | base | head | Δ | verdict |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    ...(link ? ['', `[The request in Symbiont](${link})`] : []),
  ].join('\n');
}

/** Posts the statuses (and comments) of the commits evaluated by one part of a request. */
export async function postResults(request: RequestRecord, evaluations: readonly EvaluationRecord[], deps: GithubResultsDeps): Promise<PostedResults> {
  const token = await deps.token();
  if (!token) return { statuses: 0, comments: 0 };
  const octokit = new Octokit({ auth: token, ...(deps.config.github.apiUrl ? { baseUrl: deps.config.github.apiUrl } : {}), request: { retries: 0 } });
  const link = deps.config.github.targetUrl
    ? deps.config.github.targetUrl.replaceAll('{requestId}', request.requestId)
    : deps.publicApiUrl
      ? `${deps.publicApiUrl.replace(/\/$/, '')}/evaluations/requests/${request.requestId}`
      : undefined;

  // Every evaluated commit of a repository on GitHub, with its evaluations in this request.
  const byCommit = new Map<string, { repository: string; sha: string; evaluations: EvaluationRecord[] }>();
  for (const evaluation of evaluations) {
    if (evaluation.status === 'running') continue;
    for (const [repository, sha] of Object.entries(evaluation.commitSet)) {
      // A repository held at its head beside another repository's candidate is not judged by that candidate.
      if (!evaluation.isBaselineCommitSet && request.baselineCommitSet?.[repository] === sha) continue;
      const key = `${repository}@${sha}`;
      const entry = byCommit.get(key) ?? { repository, sha, evaluations: [] };
      entry.evaluations.push(evaluation);
      byCommit.set(key, entry);
    }
  }
  let statuses = 0;
  let comments = 0;
  for (const { repository, sha, evaluations: found } of byCommit.values()) {
    const spec = deps.config.repositories[repository];
    const where = spec ? githubRepositoryOf(spec.url) : undefined;
    if (!spec || !where) continue;
    const own = found;
    const { state, description } = commitVerdict(own);
    try {
      await octokit.rest.repos.createCommitStatus({ ...where, sha, state, description, context: `symbiont/${request.pipeline}`, ...(link ? { target_url: link } : {}) });
      statuses++;
      if (spec.pullRequestComments) {
        const pulls = await octokit.rest.repos.listPullRequestsAssociatedWithCommit({ ...where, commit_sha: sha });
        for (const pull of pulls.data.filter((p) => p.state === 'open')) {
          await octokit.rest.issues.createComment({ ...where, issue_number: pull.number, body: comparisonTable(request.pipeline, sha, own, link) });
          comments++;
        }
      }
    } catch (error) {
      logger.warn('results not posted to GitHub', { repository, sha, error: error as Error });
    }
  }
  if (statuses > 0) logger.info('results posted to GitHub', { statuses, comments });
  return { statuses, comments };
}
