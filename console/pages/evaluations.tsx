import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ApiClient } from '../api.ts';
import { ErrorNotice, Facts, Loading, PageControls, SelectField, StatusBadge, statusWord, useLoad, usePaged, useSession, VerdictBadge } from '../components.tsx';
import { band, commitPairs, comparePair, duration, evaluationStatuses, filterProblem, parametersText, percent, progress, score, signed } from '../evaluation-view.ts';
import { bytes, count, instant } from '../format.ts';
import { href, type EvaluationFilters } from '../route.ts';
import type { CancelledRequest, Comparison, DatasetList, Evaluation, EvaluationArtifacts, EvaluationPage as EvaluationPageAnswer, EvaluationRequest, RepositoryList, RequestedEvaluation } from '../types.ts';

/**
 * The evaluation pages: the list (filtered, a page at a time, regressions marked), one evaluation
 * (scores, its baseline comparison, stages and logs, its diagnostic report), one request (progress,
 * cancel) and two evaluations side by side.
 */

/** Seconds between two looks at a request that is still running. */
const REFRESH_MS = 2000;

/** Every evaluation the filters select, newest first, a page at a time. */
export function EvaluationsPage({ filters }: { filters: EvaluationFilters }) {
  const [round, moved] = useSettlingRound();
  return (
    <>
      <h1>Evaluations</h1>
      <p class="lede">
        Pipelines run at commit sets on dataset versions, each judged against its baseline. A regression is marked <strong>Regressed</strong>; tick two rows to compare them.
      </p>
      <Filters filters={filters} />
      {filters.request ? <RequestProgress id={filters.request} linked onProgress={moved} /> : null}
      {/* Filtered by a running request: the first page again whenever more of its evaluations settled. */}
      <EvaluationList key={round} filters={filters} />
    </>
  );
}

/**
 * A number that grows each time a request's counts (done, failed, cancelled) or status change after
 * it was first seen, and the callback {@link RequestProgress} reports each look at the request to.
 */
function useSettlingRound(): [number, (request: EvaluationRequest) => void] {
  const [round, setRound] = useState(0);
  const seen = useRef<{ requestId: string; counts: string }>();
  const moved = (request: EvaluationRequest) => {
    const counts = `${request.done} ${request.failed} ${request.cancelled} ${request.status}`;
    const before = seen.current;
    seen.current = { requestId: request.requestId, counts };
    if (before?.requestId === request.requestId && before.counts !== counts) setRound((n) => n + 1);
  };
  return [round, moved];
}

function EvaluationList({ filters, caption = 'Evaluations, newest first' }: { filters: EvaluationFilters; caption?: string }) {
  const problem = filterProblem(filters);
  const key = `evaluations ${JSON.stringify(filters)}`;
  const paged = usePaged<Evaluation>(key, async (api, cursor) => {
    if (problem) throw new Error(problem);
    return api.get<EvaluationPageAnswer>('evaluations', { ...filters, cursor });
  });
  return (
    <>
      {paged.items.length > 0 ? <EvaluationTable evaluations={paged.items} caption={caption} /> : null}
      <PageControls paged={paged} noun="evaluations" one="evaluation" />
    </>
  );
}

function Filters({ filters }: { filters: EvaluationFilters }) {
  const datasets = useLoad('datasets for filter', (api) => api.get<DatasetList>('datasets', { limit: '100' }));
  const repositories = useLoad('repositories for filter', (api) => api.get<RepositoryList>('repositories'));
  const [draft, setDraft] = useState<EvaluationFilters>(filters);
  const [problem, setProblem] = useState<string>();
  const set = (field: keyof EvaluationFilters) => (event: Event) => setDraft({ ...draft, [field]: (event.currentTarget as HTMLInputElement).value.trim() || undefined });
  const choose = (field: keyof EvaluationFilters) => (value: string | undefined) => setDraft({ ...draft, [field]: value });
  const submit = (event: Event) => {
    event.preventDefault();
    const wanted: EvaluationFilters = { ...draft, ...(filters.limit ? { limit: filters.limit } : {}) };
    const refused = filterProblem(wanted);
    setProblem(refused);
    if (!refused) location.hash = href.evaluations(wanted);
  };
  const datasetNames = datasets.state === 'done' ? datasets.value.items.map((d) => d.name) : [];
  if (filters.dataset && !datasetNames.includes(filters.dataset)) datasetNames.push(filters.dataset);
  const repositoryNames = repositories.state === 'done' ? repositories.value.items.map((r) => r.repository) : [];
  if (filters.repository && !repositoryNames.includes(filters.repository)) repositoryNames.push(filters.repository);
  const filtered = Object.entries(filters).some(([name, value]) => name !== 'limit' && value);
  return (
    <form class="filters" onSubmit={submit} aria-label="Filter evaluations" noValidate>
      <div class="field">
        <label for="filter-pipeline">Pipeline</label>
        <input id="filter-pipeline" type="text" value={draft.pipeline ?? ''} onInput={set('pipeline')} placeholder="any" autoComplete="off" spellcheck={false} />
      </div>
      <SelectField id="filter-dataset" label="Dataset" value={draft.dataset} any="All datasets" choices={datasetNames} onChange={choose('dataset')} />
      <SelectField id="filter-status" label="Status" value={draft.status} any="Any status" choices={evaluationStatuses.map((s) => [s, statusWord(s)] as const)} onChange={choose('status')} />
      <SelectField id="filter-repository" label="Repository" value={draft.repository} any="Any repository" choices={repositoryNames} onChange={choose('repository')} />
      <div class="field">
        <label for="filter-commit">Commit (full sha)</label>
        <input id="filter-commit" class="sha" type="text" value={draft.commit ?? ''} onInput={set('commit')} autoComplete="off" spellcheck={false} aria-describedby={problem ? 'filter-problem' : undefined} />
      </div>
      <button type="submit">Show evaluations</button>
      {filtered ? (
        <a class="clear" href={href.evaluations()}>
          Clear filters
        </a>
      ) : null}
      {problem ? (
        <p id="filter-problem" role="alert" class="notice error">
          {problem}
        </p>
      ) : null}
    </form>
  );
}

/** The evaluations as rows; two ticked open the compare page. */
function EvaluationTable({ evaluations, caption }: { evaluations: readonly Evaluation[]; caption: string }) {
  const [chosen, setChosen] = useState<readonly string[]>([]);
  const toggle = (id: string) => setChosen(chosen.includes(id) ? chosen.filter((c) => c !== id) : [...chosen.slice(-1), id]);
  const pair = comparePair(chosen);
  return (
    <>
      <div class="actions">
        {pair ? (
          <a href={href.compare(pair.head, pair.base)} class="compare-chosen">
            Compare the two ticked evaluations
          </a>
        ) : (
          <span class="muted">{chosen.length === 1 ? 'Tick one more evaluation to compare the two.' : 'Tick two evaluations to compare them side by side.'}</span>
        )}
      </div>
      <table class="evaluations">
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col" class="pick">
              Compare
            </th>
            <th scope="col">Evaluation</th>
            <th scope="col">Pipeline</th>
            <th scope="col">Commit set</th>
            <th scope="col">Dataset</th>
            <th scope="col">Parameters</th>
            <th scope="col">Status</th>
            <th scope="col">Verdict</th>
          </tr>
        </thead>
        <tbody>
          {evaluations.map((e) => (
            <tr key={e.evaluationId} class={e.regressed ? 'regressed' : undefined}>
              <td class="pick">
                <input
                  type="checkbox"
                  checked={chosen.includes(e.evaluationId)}
                  onChange={() => toggle(e.evaluationId)}
                  aria-label={`Compare evaluation ${e.evaluationId}`}
                />
              </td>
              <th scope="row">
                <a href={href.evaluation(e.evaluationId)}>
                  <code>{e.evaluationId.slice(-8)}</code>
                  <span class="visually-hidden"> (evaluation {e.evaluationId})</span>
                </a>
                <br />
                <span class="muted">
                  {instant(e.createdAt)}
                  {e.phase === 'baseline' ? ' · baseline' : ''}
                </span>
              </th>
              <td>{e.pipeline}</td>
              <td>
                <CommitSet commitSet={e.commitSet} />
              </td>
              <td>
                <a href={href.version(e.dataset, e.version)}>
                  {e.dataset}@{e.version}
                </a>
              </td>
              <td>
                <code>{parametersText(e.parameters)}</code>
              </td>
              <td>
                <StatusBadge status={e.status} />
              </td>
              <td>
                <VerdictBadge verdict={e.verdict} />
                {e.baselineEvaluationId ? (
                  <>
                    <br />
                    <a href={href.compare(e.evaluationId)}>
                      vs baseline<span class="visually-hidden"> for {e.evaluationId}</span>
                    </a>
                  </>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** `model@9c1e5b0`, each linked to the evaluations of that commit. */
function CommitSet({ commitSet }: { commitSet: Readonly<Record<string, string>> }) {
  return (
    <ul class="commits">
      {commitPairs(commitSet).map(({ repository, sha, short }) => (
        <li key={repository}>
          {repository}@
          <a href={href.evaluations({ repository, commit: sha })} title={sha}>
            <code>{short}</code>
            <span class="visually-hidden"> (evaluations of {repository} commit {sha})</span>
          </a>
        </li>
      ))}
    </ul>
  );
}

/** A request, asked again every few seconds while it runs. */
function useRequest(id: string): { request?: EvaluationRequest; error?: Error; replace(request: EvaluationRequest): void } {
  const { api } = useSession();
  const [state, setState] = useState<{ request?: EvaluationRequest; error?: Error }>({});
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const look = () =>
      api.get<EvaluationRequest>(`evaluations/requests/${encodeURIComponent(id)}`).then(
        (request) => {
          if (!live) return;
          setState({ request });
          if (progress(request).active) timer = setTimeout(look, REFRESH_MS);
        },
        (error: unknown) => live && setState((s) => ({ ...s, error: error as Error })),
      );
    void look();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [api, id]);
  return { ...state, replace: (request) => setState({ request }) };
}

/** A request's progress and a Cancel button while it runs; `children` draws more of the request as it moves. */
function RequestProgress({
  id,
  linked = false,
  onProgress,
  children,
}: {
  id: string;
  linked?: boolean;
  /** Called with the request each time it is looked at. */
  onProgress?: (request: EvaluationRequest) => void;
  children?: (request: EvaluationRequest) => ComponentChildren;
}) {
  const { api } = useSession();
  const { request, error, replace } = useRequest(id);
  useEffect(() => {
    if (request) onProgress?.(request);
  }, [request]);
  const [cancelling, setCancelling] = useState<{ busy: boolean; error?: Error; said?: string }>({ busy: false });
  if (!request) return error ? <ErrorNotice error={error} /> : <Loading what="the request" />;
  const p = progress(request);
  const cancel = async () => {
    if (!confirm(`Cancel request ${request.requestId}? Its running evaluations stop and what has not run yet never starts.`)) return;
    setCancelling({ busy: true });
    try {
      const answer = await api.post<CancelledRequest>(`evaluations/requests/${encodeURIComponent(request.requestId)}/cancel`, {});
      replace(answer.request);
      setCancelling({ busy: false, said: answer.cancelled ? 'The request is cancelled.' : `The request had ended already (${answer.request.status}).` });
    } catch (failure) {
      setCancelling({ busy: false, error: failure as Error });
    }
  };
  return (
    <section aria-labelledby="request-heading" class="request">
      <h2 id="request-heading">
        {linked ? <a href={href.request(request.requestId)}>Request {request.requestId}</a> : 'Progress'} <StatusBadge status={request.status} />
      </h2>
      <p>
        <label for={`progress-${request.requestId}`}>
          {count(p.settled)} of {count(p.total)} evaluations settled
        </label>{' '}
        <progress id={`progress-${request.requestId}`} max={Math.max(1, p.total)} value={p.settled}>
          {p.percent} %
        </progress>
      </p>
      <Facts
        facts={[
          ['Pipeline', request.pipeline],
          ['Reason', request.reason],
          ['Done', count(request.done)],
          ['Failed', count(request.failed)],
          ['Cancelled', count(request.cancelled)],
          ['Regressed', count(request.regressed)],
          ['Asked by', `${request.createdBy}, ${instant(request.createdAt)}`],
          ['Finished', instant(request.finishedAt)],
        ]}
      />
      {request.error ? (
        <div class="notice error">
          <p>{request.error}</p>
        </div>
      ) : null}
      {request.cancelledBy ? (
        <p class="muted">
          Cancelled by {request.cancelledBy}, {instant(request.cancelledAt)}.
        </p>
      ) : null}
      <div class="actions" aria-live="polite">
        {p.active ? (
          <button type="button" onClick={() => void cancel()} disabled={cancelling.busy}>
            {cancelling.busy ? 'Cancelling…' : 'Cancel the request'}
          </button>
        ) : null}
        {cancelling.said ? <span role="status">{cancelling.said}</span> : null}
      </div>
      {cancelling.error ? <ErrorNotice error={cancelling.error} /> : null}
      {children?.(request)}
    </section>
  );
}

/** One evaluation request: its progress (refreshed while it runs), a cancel, and its evaluations. */
export function RequestPage({ id }: { id: string }) {
  return (
    <>
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href={href.evaluations()}>Evaluations</a> › <span aria-current="page">Request {id}</span>
      </nav>
      <h1>Evaluation request {id}</h1>
      <RequestProgress id={id}>
        {(request) => (
          <>
            <h2>Its evaluations</h2>
            {/* Loaded again whenever more of them have settled. */}
            <EvaluationList key={`${progress(request).settled} ${request.status}`} filters={{ request: id }} caption={`The evaluations of request ${id}`} />
          </>
        )}
      </RequestProgress>
    </>
  );
}

/** One evaluation: what ran, its scores against its baseline, its stages and logs, its diagnostic report. */
export function EvaluationPage({ id }: { id: string }) {
  const loaded = useLoad(`evaluation ${id}`, (api) => api.get<Evaluation>(`evaluations/${encodeURIComponent(id)}`));
  return (
    <>
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href={href.evaluations()}>Evaluations</a> › <span aria-current="page">{id}</span>
      </nav>
      <h1>Evaluation {id}</h1>
      {loaded.state === 'loading' ? <Loading what="the evaluation" /> : null}
      {loaded.state === 'failed' ? <ErrorNotice error={loaded.error} /> : null}
      {loaded.state === 'done' ? <EvaluationDetails evaluation={loaded.value} /> : null}
    </>
  );
}

function EvaluationDetails({ evaluation: e }: { evaluation: Evaluation }) {
  const comparison = useLoad(`compare ${e.evaluationId}`, (api) => api.get<Comparison>('compare', { head: e.evaluationId }));
  const firstMetric = Object.keys(e.scores ?? e.comparison ?? {})[0];
  return (
    <>
      <p>
        <StatusBadge status={e.status} /> <VerdictBadge verdict={e.verdict} />
      </p>
      {e.regressed ? (
        <div class="notice error">
          <h2 class="notice-title">Regressed</h2>
          <p>At least one metric moved the wrong way by more than the tolerance allows, compared with its baseline.</p>
        </div>
      ) : null}
      <Facts
        facts={[
          ['Pipeline', e.pipeline],
          ['Commit set', <CommitSet commitSet={e.commitSet} />],
          ['Dataset', <a href={href.version(e.dataset, e.version)}>{`${e.dataset}@${e.version}`}</a>],
          ['Parameters', <code>{parametersText(e.parameters)}</code>],
          ['Repeats', count(e.repeats)],
          ['Phase', e.phase === 'baseline' ? 'baseline' : 'candidate'],
          ['Request', <a href={href.request(e.requestId)}>{e.requestId}</a>],
          ['Reason', e.reason ?? '—'],
          ['Started', instant(e.startedAt)],
          ['Finished', instant(e.finishedAt)],
          ['Took', duration(e.durationMs)],
          ['Baseline', e.baselineEvaluationId ? <a href={href.evaluation(e.baselineEvaluationId)}>{e.baselineEvaluationId}</a> : 'none'],
        ]}
      />
      <div class="actions">
        {firstMetric ? <a href={href.trend(e.pipeline, { metric: firstMetric, dataset: e.dataset })}>Trend of {e.pipeline}’s {firstMetric} on {e.dataset}</a> : null}
        {e.baselineEvaluationId ? <a href={href.compare(e.evaluationId)}>Compare with its baseline side by side</a> : null}
        <Rerun evaluation={e} />
      </div>
      {e.failure ? <Failure failure={e.failure} /> : null}
      {e.comparisonError ? (
        <div class="notice warn">
          <p>It could not be compared with its baseline: {e.comparisonError}</p>
        </div>
      ) : null}
      <section aria-labelledby="scores-heading">
        <h2 id="scores-heading">Scores and comparison with its baseline</h2>
        {comparison.state === 'loading' ? <Loading what="the comparison" /> : null}
        {comparison.state === 'failed' ? <ErrorNotice error={comparison.error} /> : null}
        {comparison.state === 'done' ? <ScoreTable evaluation={e} comparison={comparison.value} /> : null}
      </section>
      <DiagnosticReport evaluation={e} />
      <Stages evaluation={e} />
    </>
  );
}

/** Per metric: the mean, its spread, the baseline's value, the change, the band, the verdict. */
function ScoreTable({ evaluation: e, comparison }: { evaluation: Evaluation; comparison: Comparison }) {
  const metrics = [...new Set([...Object.keys(e.scores ?? {}), ...Object.keys(comparison.metrics)])].sort();
  if (metrics.length === 0) return <p class="muted">No scores: the evaluation did not get as far as its metrics.</p>;
  return (
    <table class="scores">
      <caption>
        Per metric, against {comparison.base ? <a href={href.evaluation(comparison.base.evaluationId)}>baseline {comparison.base.evaluationId}</a> : 'no baseline'}
      </caption>
      <thead>
        <tr>
          <th scope="col">Metric</th>
          <th scope="col">Goal</th>
          <th scope="col" class="num">
            Score
          </th>
          <th scope="col" class="num">
            Spread
          </th>
          <th scope="col" class="num">
            Baseline
          </th>
          <th scope="col" class="num">
            Change
          </th>
          <th scope="col">Tolerance band</th>
          <th scope="col">Verdict</th>
          <th scope="col">
            <span class="visually-hidden">Trend</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {metrics.map((metric) => {
          const s = e.scores?.[metric];
          const m = comparison.metrics[metric];
          return (
            <tr key={metric} class={m?.verdict === 'regressed' ? 'regressed' : undefined}>
              <th scope="row">
                <code>{metric}</code>
              </th>
              <td>{m ? (m.goal === 'max' ? 'higher is better' : 'lower is better') : '—'}</td>
              <td class="num">{score(s?.mean ?? m?.head)}</td>
              <td class="num">{s?.spread !== undefined ? `±${score(s.spread)}` : '—'}</td>
              <td class="num">{score(m?.base)}</td>
              <td class="num">
                {signed(m?.delta)}
                {m?.relativeDelta !== undefined ? <span class="muted"> ({percent(m.relativeDelta)})</span> : null}
              </td>
              <td>{band(m?.base, m?.allowed)}</td>
              <td>
                <VerdictBadge verdict={m?.verdict} />
              </td>
              <td>
                <a href={href.trend(e.pipeline, { metric, dataset: e.dataset })}>
                  Trend<span class="visually-hidden"> of {metric}</span>
                </a>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function Failure({ failure }: { failure: NonNullable<Evaluation['failure']> }) {
  return (
    <div class="notice error">
      <h2 class="notice-title">Why it failed</h2>
      <p>
        {failure.reason}
        {failure.stage ? ` (stage ${failure.stage}${failure.repeat !== undefined ? `, repeat ${failure.repeat + 1}` : ''}${failure.exitCode != null ? `, exit code ${failure.exitCode}` : ''})` : ''}: {failure.error}
      </p>
      {failure.stderrTail ? (
        <>
          <h3 class="notice-title">The end of its stderr</h3>
          <pre class="log" tabIndex={0} aria-label="The end of the failed stage's stderr">
            {failure.stderrTail}
          </pre>
        </>
      ) : null}
    </div>
  );
}

/** The stages as they ran, repeat by repeat, with their logs. */
function Stages({ evaluation: e }: { evaluation: Evaluation }) {
  const stages = e.stages ?? [];
  // A listing per stage run in S3: asked separately, so the evaluation itself shows at once.
  const artifacts = useLoad(`artifacts ${e.evaluationId} ${stages.length}`, (api) =>
    stages.length === 0 ? Promise.resolve(undefined) : api.get<EvaluationArtifacts>(`evaluations/artifacts/${encodeURIComponent(e.evaluationId)}`),
  );
  return (
    <section aria-labelledby="stages-heading">
      <h2 id="stages-heading">Stages</h2>
      {stages.length === 0 ? (
        <p class="muted">No stage has finished yet.</p>
      ) : (
        <table class="stages">
          <caption class="visually-hidden">Stages, repeat by repeat</caption>
          <thead>
            <tr>
              <th scope="col" class="num">
                Repeat
              </th>
              <th scope="col">Stage</th>
              <th scope="col">Status</th>
              <th scope="col" class="num">
                Took
              </th>
              <th scope="col">Logs</th>
              <th scope="col">Artifacts</th>
            </tr>
          </thead>
          <tbody>
            {stages.map((s) => (
              <tr key={`${s.repeat}/${s.stage}`}>
                <td class="num">{s.repeat + 1}</td>
                <th scope="row">
                  {s.stage + 1}. {s.name}
                </th>
                <td>{s.exitCode === 0 ? <StatusBadge status="succeeded" /> : <StatusBadge status="failed" />} <span class="muted">exit code {s.exitCode ?? 'none'}</span></td>
                <td class="num">{duration(s.durationMs)}</td>
                <td>
                  <StageLogs stage={s} />
                </td>
                <td>
                  <StageArtifacts stage={s} artifacts={artifacts} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {artifacts.state === 'failed' ? <ErrorNotice error={artifacts.error} /> : null}
      <p class="muted">
        Artifacts are the files each stage wrote to its output folder; their links work for 15 minutes (reload the page for new ones). Outputs, logs and stage results are in the data
        bucket under <code class="wrap">{e.artifactsPrefix}</code>.
      </p>
    </section>
  );
}

/** The files a stage run wrote, each a download link with its size; or why there are none to show. */
function StageArtifacts({ stage, artifacts }: { stage: Stage; artifacts: ReturnType<typeof useLoad<EvaluationArtifacts | undefined>> }) {
  if (artifacts.state === 'loading') return <span class="muted">Loading…</span>;
  if (artifacts.state === 'failed') return <span class="muted">Not available (see below)</span>;
  const run = artifacts.value?.stages.find((r) => r.repeat === stage.repeat && r.stage === stage.stage);
  if (!run || run.files.length === 0) return <span class="muted">No files</span>;
  const where = `of stage ${stage.name}, repeat ${stage.repeat + 1}`;
  return (
    <>
      <ul class="plain">
        {run.files.map((file) => (
          <li key={file.name}>
            <a href={file.url}>
              {file.name}
              <span class="visually-hidden"> {where}</span>
            </a>{' '}
            <span class="muted">{bytes(file.size)}</span>
          </li>
        ))}
      </ul>
      {run.truncated ? (
        <p class="muted">
          The first {count(run.files.length)} files; the rest are under <code class="wrap">{run.prefix}</code>.
        </p>
      ) : null}
    </>
  );
}

type Stage = NonNullable<Evaluation['stages']>[number];

function StageLogs({ stage }: { stage: Stage }) {
  if (!stage.logs) return <span class="muted">—</span>;
  const where = `of stage ${stage.name}, repeat ${stage.repeat + 1}`;
  return (
    <ul class="plain">
      {(['stdout', 'stderr'] as const).map((stream) => (
        <li key={stream}>
          <a href={stage.logs![stream]} target="_blank" rel="noopener noreferrer">
            {stream}
            <span class="visually-hidden"> {where}</span>
          </a>
        </li>
      ))}
    </ul>
  );
}

/** A regression's diagnostic report: its status, a link to it in the console and to its HTML. */
function DiagnosticReport({ evaluation: e }: { evaluation: Evaluation }) {
  const report = e.report;
  return (
    <section aria-labelledby="report-heading">
      <h2 id="report-heading">Diagnostic report</h2>
      {!report ? (
        <p class="muted">{e.regressed ? 'None was made for this regression: the pipeline has no onRegression template.' : 'Only a regression gets one.'}</p>
      ) : (
        <>
          <p>
            <StatusBadge status={report.status} /> {report.template ? <>Template <code>{report.template}</code>, </> : null}
            {instant(report.at)}.
          </p>
          {report.reason ? (
            <div class="notice warn">
              <p>{report.reason}</p>
            </div>
          ) : null}
          <div class="actions">
            {report.reportId ? <a href={href.report(report.reportId)}>Open the diagnostic report</a> : null}
            {report.html ? (
              <a href={report.html} target="_blank" rel="noopener noreferrer">
                Its HTML (link valid until {instant(report.expiresAt)})
              </a>
            ) : null}
          </div>
        </>
      )}
    </section>
  );
}

/** Runs the evaluation again as a request of its own (admins): the button, and where the new request is. */
function Rerun({ evaluation: e }: { evaluation: Evaluation }) {
  const { api, me } = useSession();
  const [state, setState] = useState<{ busy: boolean; error?: Error }>({ busy: false });
  if (me.role !== 'admin') return null;
  const rerun = async () => {
    setState({ busy: true });
    try {
      const answer = await api.post<RequestedEvaluation>('evaluations/reruns', { evaluationId: e.evaluationId });
      location.hash = href.request(answer.request.requestId);
    } catch (error) {
      setState({ busy: false, error: error as Error });
    }
  };
  return (
    <>
      <button type="button" onClick={() => void rerun()} disabled={state.busy}>
        {state.busy ? 'Asking…' : 'Run it again'}
      </button>
      {state.error ? <ErrorNotice error={state.error} /> : null}
    </>
  );
}

/** Two evaluations side by side: their commit sets and setup, then per metric both scores, the change and the verdict. */
export function ComparePage({ head, base }: { head: string; base?: string }) {
  const loaded = useLoad(`compare ${head} ${base ?? ''}`, (api: ApiClient) => api.get<Comparison>('compare', { head, base }));
  return (
    <>
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href={href.evaluations()}>Evaluations</a> › <span aria-current="page">Compare</span>
      </nav>
      <h1>Compare two evaluations</h1>
      {loaded.state === 'loading' ? <Loading what="the comparison" /> : null}
      {loaded.state === 'failed' ? <ErrorNotice error={loaded.error} /> : null}
      {loaded.state === 'done' ? <Comparing comparison={loaded.value} named={Boolean(base)} /> : null}
    </>
  );
}

function Comparing({ comparison: c, named }: { comparison: Comparison; named: boolean }) {
  const metrics = Object.keys(c.metrics).sort();
  const side = (e: Evaluation | undefined, role: string) => (
    <section aria-label={role}>
      <h2>{role}</h2>
      {!e ? (
        <p class="muted">The head evaluation has no baseline to compare with.</p>
      ) : (
        <Facts
          facts={[
            ['Evaluation', <a href={href.evaluation(e.evaluationId)}>{e.evaluationId}</a>],
            ['Commit set', <CommitSet commitSet={e.commitSet} />],
            ['Dataset', `${e.dataset}@${e.version}`],
            ['Parameters', <code>{parametersText(e.parameters)}</code>],
            ['Status', <StatusBadge status={e.status} />],
            ['Finished', instant(e.finishedAt)],
          ]}
        />
      )}
    </section>
  );
  return (
    <>
      <p>
        Pipeline <strong>{c.pipeline}</strong>: the head judged against {named ? 'the evaluation chosen as base' : 'its own baseline'}.{' '}
        <VerdictBadge verdict={c.verdict} />
      </p>
      {c.regressed ? (
        <div class="notice error">
          <p>
            <strong>Regressed:</strong> {metrics.filter((m) => c.metrics[m]!.verdict === 'regressed').join(', ')} moved the wrong way beyond the tolerance.
          </p>
        </div>
      ) : null}
      <div class="side-by-side">
        {side(c.base, 'Base')}
        {side(c.head, 'Head')}
      </div>
      <table class="scores">
        <caption>Per metric, base against head</caption>
        <thead>
          <tr>
            <th scope="col">Metric</th>
            <th scope="col" class="num">
              Base
            </th>
            <th scope="col" class="num">
              Head
            </th>
            <th scope="col" class="num">
              Change
            </th>
            <th scope="col">Tolerance band</th>
            <th scope="col">Verdict</th>
          </tr>
        </thead>
        <tbody>
          {metrics.map((metric) => {
            const m = c.metrics[metric]!;
            return (
              <tr key={metric} class={m.verdict === 'regressed' ? 'regressed' : undefined}>
                <th scope="row">
                  <code>{metric}</code> <span class="muted">({m.goal === 'max' ? 'higher' : 'lower'} is better)</span>
                </th>
                <td class="num">{score(m.base)}</td>
                <td class="num">{score(m.head)}</td>
                <td class="num">
                  {signed(m.delta)}
                  {m.relativeDelta !== undefined ? <span class="muted"> ({percent(m.relativeDelta)})</span> : null}
                </td>
                <td>{band(m.base, m.allowed)}</td>
                <td>
                  <VerdictBadge verdict={m.verdict} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}
