import { useEffect, useState } from 'preact/hooks';
import { ErrorNotice, Facts, Loading, PageControls, SelectField, StatusBadge, statusWord, useLoad, usePaged, useSession } from '../components.tsx';
import { count, instant } from '../format.ts';
import { parameterText, rerunParameters, settableParameters, subjectOf } from '../report-params.ts';
import { href, type ReportFilters } from '../route.ts';
import type { DatasetVersionPage, Report, Template } from '../types.ts';

const statuses = ['queued', 'rendering', 'succeeded', 'failed'] as const;

/** Every report, newest first, a page at a time, filtered by template and status. */
export function ReportsPage({ filters }: { filters: ReportFilters }) {
  const key = `reports ${filters.template ?? ''} ${filters.status ?? ''} ${filters.limit ?? ''}`;
  const paged = usePaged(key, (api, cursor) => api.get<{ items: Report[]; cursor?: string }>('reports', { ...filters, cursor }));
  return (
    <>
      <h1>Reports</h1>
      <p class="lede">Notebook templates rendered for a dataset version or an evaluation: open one to read it, or render it again with other parameters or another version.</p>
      <Filters filters={filters} />
      {paged.items.length > 0 ? <ReportTable reports={paged.items} /> : null}
      <PageControls paged={paged} noun="reports" one="report" />
    </>
  );
}

function Filters({ filters }: { filters: ReportFilters }) {
  const templates = useLoad('templates for filter', (api) => api.get<{ items: Template[] }>('templates'));
  const [draft, setDraft] = useState<ReportFilters>(filters);
  const set = (field: keyof ReportFilters) => (value: string | undefined) => setDraft({ ...draft, [field]: value });
  const submit = (event: Event) => {
    event.preventDefault();
    location.hash = href.reports({ ...draft, ...(filters.limit ? { limit: filters.limit } : {}) });
  };
  const names = templates.state === 'done' ? templates.value.items.map((t) => t.name) : [];
  if (filters.template && !names.includes(filters.template)) names.push(filters.template);
  return (
    <form class="filters" onSubmit={submit} aria-label="Filter reports">
      <SelectField id="filter-template" label="Template" value={draft.template} any="All templates" choices={names} onChange={set('template')} />
      <SelectField id="filter-status" label="Status" value={draft.status} any="Any status" choices={statuses.map((s) => [s, statusWord(s)] as const)} onChange={set('status')} />
      <button type="submit">Show reports</button>
      {filters.template || filters.status ? (
        <a class="clear" href={href.reports()}>
          Clear filters
        </a>
      ) : null}
    </form>
  );
}

function ReportTable({ reports }: { reports: readonly Report[] }) {
  return (
    <table>
      <caption class="visually-hidden">Reports, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Report</th>
          <th scope="col">Template</th>
          <th scope="col">About</th>
          <th scope="col">Parameters</th>
          <th scope="col">Status</th>
          <th scope="col">Rendered</th>
        </tr>
      </thead>
      <tbody>
        {reports.map((r) => (
          <tr key={r.reportId}>
            <th scope="row">
              <a href={href.report(r.reportId)}>
                <code>{r.reportId}</code>
              </a>
            </th>
            <td>{r.template}</td>
            <td>
              <Subject report={r} />
            </td>
            <td>
              <Parameters parameters={r.parameters} />
            </td>
            <td>
              <StatusBadge status={r.status} />
            </td>
            <td>{r.status === 'succeeded' ? instant(r.finishedAt) : '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The dataset version or evaluation a report is about, linked. */
function Subject({ report }: { report: Pick<Report, 'dataset' | 'evaluationId'> }) {
  if (report.dataset) return <a href={href.version(report.dataset.name, report.dataset.version)}>{subjectOf(report)}</a>;
  if (report.evaluationId) return <a href={href.evaluation(report.evaluationId)}>{subjectOf(report)}</a>;
  return <span class="muted">—</span>;
}

function Parameters({ parameters }: { parameters: Readonly<Record<string, unknown>> }) {
  const entries = Object.entries(parameters);
  if (entries.length === 0) return <span class="muted">the template’s defaults</span>;
  return (
    <ul class="plain">
      {entries.map(([name, value]) => (
        <li key={name}>
          <code>
            {name}={JSON.stringify(value)}
          </code>
        </li>
      ))}
    </ul>
  );
}

/** How often a queued or rendering report is read again. */
const REFRESH_MS = 1500;

/** A report read again until it is succeeded or failed. */
function useReport(id: string): { report?: Report; error?: Error } {
  const { api } = useSession();
  const [state, setState] = useState<{ report?: Report; error?: Error }>({});
  useEffect(() => {
    let current = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const read = () =>
      api.get<Report>(`reports/${encodeURIComponent(id)}`).then(
        (report) => {
          if (!current) return;
          setState({ report });
          if (report.status === 'queued' || report.status === 'rendering') timer = setTimeout(read, REFRESH_MS);
        },
        (error: unknown) => current && setState((s) => ({ ...s, error: error as Error })),
      );
    void read();
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [api, id]);
  return state;
}

/** One report: its status, what it is about, why it failed, the rendered HTML in a sandboxed frame, and a form to render it again. */
export function ReportPage({ id }: { id: string }) {
  const { report, error } = useReport(id);
  return (
    <>
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href={href.reports()}>Reports</a> › <span aria-current="page">{id}</span>
      </nav>
      <h1>{report ? `Report ${report.template} on ${subjectOf(report)}` : `Report ${id}`}</h1>
      {!report && !error ? <Loading what="the report" /> : null}
      {error ? <ErrorNotice error={error} /> : null}
      {report ? <ReportDetails report={report} /> : null}
    </>
  );
}

function ReportDetails({ report: r }: { report: Report }) {
  const running = r.status === 'queued' || r.status === 'rendering';
  return (
    <>
      <p>
        <StatusBadge status={r.status} />
      </p>
      {running ? (
        <p role="status" class="muted">
          {r.status === 'queued' ? 'Waiting to be rendered' : 'Rendering'}: this page follows it until it is done.
        </p>
      ) : null}
      {r.status === 'failed' ? (
        <div role="alert" class="notice error">
          <h2 class="notice-title">The report could not be rendered</h2>
          <p>
            {r.error ? (
              <>
                <strong>{r.error.name}</strong>
                {r.error.cell !== undefined ? ` in cell ${r.error.cell}` : ''}: {r.error.message}
              </>
            ) : (
              'It failed without saying why.'
            )}
          </p>
          <p>Fix the template or the parameters and render it again below.</p>
        </div>
      ) : null}
      <Facts
        facts={[
          ['Report id', <code>{r.reportId}</code>],
          ['Template', <a href={href.reports({ template: r.template })}>{r.template}</a>],
          ['About', <Subject report={r} />],
          ['Parameters', <Parameters parameters={r.parameters} />],
          ['Requested by', r.requestedBy],
          ['Requested', instant(r.createdAt)],
          ['Rendered', r.status === 'succeeded' ? instant(r.finishedAt) : '—'],
          ['Took', r.durationMs !== undefined ? `${count(r.durationMs / 1000)} s` : '—'],
          ['Attempts', String(r.attempts)],
        ]}
      />
      {r.status === 'succeeded' && r.urls?.html ? <Rendered report={r} html={r.urls.html} /> : null}
      {!running ? <Rerun report={r} /> : null}
    </>
  );
}

/**
 * The rendered HTML in a frame sandboxed without `allow-same-origin`: its scripts run (plots,
 * the code toggle) in an opaque origin, so they can read neither the console's page nor its cookie
 * and cannot call the API as the reader.
 */
function Rendered({ report: r, html }: { report: Report; html: string }) {
  return (
    <section aria-labelledby="rendered-heading">
      <h2 id="rendered-heading">The report</h2>
      <p class="actions">
        <a href={html} target="_blank" rel="noopener noreferrer">
          Open the report in a new tab
        </a>
        {r.urls?.notebook ? <a href={r.urls.notebook}>Download the executed notebook</a> : null}
        <span class="muted">The links work until {instant(r.urls?.expiresAt)}.</span>
      </p>
      <iframe class="report" src={html} sandbox="allow-scripts" referrerpolicy="no-referrer" title={`Report ${r.template} on ${subjectOf(r)}, as rendered`} />
    </section>
  );
}

/** Render the same template again: other parameters, another dataset version; then follow the new report. */
function Rerun({ report: r }: { report: Report }) {
  const { api } = useSession();
  const template = useLoad(`template ${r.template}`, (client) => client.get<Template>(`templates/${encodeURIComponent(r.template)}`));
  const versions = useLoad(`versions ${r.dataset?.name ?? ''}`, async (client) =>
    r.dataset ? client.get<DatasetVersionPage>(`datasets/${encodeURIComponent(r.dataset.name)}/versions`, { limit: '100' }) : { items: [] },
  );
  const [texts, setTexts] = useState<Record<string, string>>({});
  const [version, setVersion] = useState<string>(r.dataset ? String(r.dataset.version) : '');
  const [hideCode, setHideCode] = useState(r.hideCode);
  const [sending, setSending] = useState(false);
  const [problems, setProblems] = useState<string[]>([]);
  const [failure, setFailure] = useState<Error | undefined>();

  if (template.state === 'loading') return <Loading what="the template’s parameters" />;
  if (template.state === 'failed') return <ErrorNotice error={template.error} />;
  const parameters = settableParameters(template.value);
  const textOf = (name: string) => texts[name] ?? parameterText(parameters.find((p) => p.name === name)!.type, r.parameters[name]);

  const submit = async (event: Event) => {
    event.preventDefault();
    const read = rerunParameters(parameters, Object.fromEntries(parameters.map((p) => [p.name, textOf(p.name)])));
    if ('errors' in read) {
      setProblems(read.errors);
      return;
    }
    setProblems([]);
    setFailure(undefined);
    setSending(true);
    try {
      const created = await api.post<{ reports: Report[] }>('reports', {
        template: r.template,
        parameters: read.parameters,
        ...(r.dataset ? { dataset: { name: r.dataset.name, version: Number(version) } } : {}),
        ...(r.evaluationId ? { evaluation: r.evaluationId } : {}),
        hideCode,
      });
      location.hash = href.report(created.reports[0]!.reportId);
    } catch (error) {
      setFailure(error as Error);
      setSending(false);
    }
  };

  return (
    <section aria-labelledby="rerun-heading">
      <h2 id="rerun-heading">Render it again</h2>
      <p class="muted">
        The same template{r.dataset ? ' on the dataset version you pick' : r.evaluationId ? ' on the same evaluation' : ''}, with the parameters below. An empty field takes the template’s default.
      </p>
      <form class="rerun" onSubmit={submit} aria-labelledby="rerun-heading" noValidate>
        {r.dataset ? (
          <div class="field">
            <label for="rerun-version">{r.dataset.name} version</label>
            {versions.state === 'failed' ? <ErrorNotice error={versions.error} /> : null}
            <select id="rerun-version" value={version} onChange={(e) => setVersion((e.currentTarget as HTMLSelectElement).value)}>
              {versionChoices(versions.state === 'done' ? versions.value.items : [], r.dataset.version).map((v) => (
                <option key={v.version} value={String(v.version)}>
                  Version {v.version}
                  {v.file ? ` (${v.file})` : ''}
                  {v.version === r.dataset!.version ? ' — this report’s' : ''}
                </option>
              ))}
            </select>
          </div>
        ) : null}
        {parameters.map((p) => (
          <div class="field" key={p.name}>
            <label for={`rerun-${p.name}`}>{p.name}</label>
            <input
              id={`rerun-${p.name}`}
              type="text"
              value={textOf(p.name)}
              aria-describedby={`rerun-${p.name}-help`}
              onInput={(e) => setTexts({ ...texts, [p.name]: (e.currentTarget as HTMLInputElement).value })}
            />
            <span class="help" id={`rerun-${p.name}-help`}>
              {p.type}, default <code>{p.default}</code>
              {p.help ? ` — ${p.help}` : ''}
            </span>
          </div>
        ))}
        <div class="field">
          <label>
            <input type="checkbox" checked={hideCode} onChange={(e) => setHideCode((e.currentTarget as HTMLInputElement).checked)} /> Open with the code hidden
          </label>
        </div>
        {problems.length > 0 ? (
          <div role="alert" class="notice error">
            <ul>
              {problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          </div>
        ) : null}
        {failure ? <ErrorNotice error={failure} /> : null}
        <button type="submit" class="primary" disabled={sending}>
          {sending ? 'Requesting…' : 'Render again'}
        </button>
      </form>
    </section>
  );
}

/** The versions to pick from: the newest page of them, and this report's own even when older. */
function versionChoices(items: DatasetVersionPage['items'], own: number): { version: number; file?: string }[] {
  const choices: { version: number; file?: string }[] = items.map((v) => ({ version: v.version, file: v.file }));
  if (!choices.some((v) => v.version === own)) choices.push({ version: own });
  return choices.sort((a, b) => b.version - a.version);
}
