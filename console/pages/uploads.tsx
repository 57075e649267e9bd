import { useState } from 'preact/hooks';
import { ErrorNotice, Facts, Loading, PageControls, SelectField, StatusBadge, statusWord, useLoad, usePaged } from '../components.tsx';
import { bytes, count, instant, shortHash } from '../format.ts';
import { href, type UploadFilters } from '../route.ts';
import type { DatasetList, Upload, UploadListItem, UploadPage, UploadReport } from '../types.ts';

const statuses = ['received', 'validating', 'published', 'quarantined', 'rejected', 'failed'] as const;
const sources = [
  ['sftp', 'SFTP'],
  ['api', 'API (upload slot)'],
] as const;

/** Every upload the caller may see, newest first, filtered by dataset, status and source. */
export function UploadsPage({ filters }: { filters: UploadFilters }) {
  const key = `uploads ${filters.dataset ?? ''} ${filters.status ?? ''} ${filters.source ?? ''} ${filters.limit ?? ''}`;
  const paged = usePaged(key, (api, cursor) => api.get<UploadPage>('uploads', { ...filters, cursor }));
  return (
    <>
      <h1>Uploads</h1>
      <p class="lede">Every file sent by SFTP or through an upload slot, and what became of it.</p>
      <Filters filters={filters} />
      {paged.items.length > 0 ? <UploadTable uploads={paged.items} /> : null}
      <PageControls paged={paged} noun="uploads" one="upload" />
    </>
  );
}

function Filters({ filters }: { filters: UploadFilters }) {
  const datasets = useLoad('datasets for filter', (api) => api.get<DatasetList>('datasets', { limit: '100' }));
  const [draft, setDraft] = useState<UploadFilters>(filters);
  const set = (field: keyof UploadFilters) => (value: string | undefined) => setDraft({ ...draft, [field]: value });
  const submit = (event: Event) => {
    event.preventDefault();
    location.hash = href.uploads({ ...draft, ...(filters.limit ? { limit: filters.limit } : {}) });
  };
  const names = datasets.state === 'done' ? datasets.value.items.map((d) => d.name) : [];
  if (filters.dataset && !names.includes(filters.dataset)) names.push(filters.dataset);
  return (
    <form class="filters" onSubmit={submit} aria-label="Filter uploads">
      <SelectField id="filter-dataset" label="Dataset" value={draft.dataset} any="All datasets" choices={names} onChange={set('dataset')} />
      <SelectField id="filter-status" label="Status" value={draft.status} any="Any status" choices={statuses.map((s) => [s, statusWord(s)] as const)} onChange={set('status')} />
      <SelectField id="filter-source" label="Source" value={draft.source} any="Any source" choices={sources} onChange={set('source')} />
      <button type="submit">Show uploads</button>
      {filters.dataset || filters.status || filters.source ? (
        <a class="clear" href={href.uploads()}>
          Clear filters
        </a>
      ) : null}
    </form>
  );
}

function UploadTable({ uploads }: { uploads: readonly UploadListItem[] }) {
  return (
    <table>
      <caption class="visually-hidden">Uploads, newest first</caption>
      <thead>
        <tr>
          <th scope="col">File</th>
          <th scope="col">Dataset</th>
          <th scope="col">Received</th>
          <th scope="col">Source</th>
          <th scope="col">Sender</th>
          <th scope="col">Status</th>
          <th scope="col">Outcome</th>
        </tr>
      </thead>
      <tbody>
        {uploads.map((u) => (
          <tr key={u.uploadId}>
            <th scope="row">
              <a href={href.upload(u.uploadId)}>{u.file ?? u.key}</a>
            </th>
            <td>{u.dataset ?? '—'}</td>
            <td>{instant(u.receivedAt)}</td>
            <td>{u.source === 'api' ? 'API' : 'SFTP'}</td>
            <td>{u.sender ?? '—'}</td>
            <td>
              <StatusBadge status={u.status} />
            </td>
            <td>
              <Outcome upload={u} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Outcome({ upload: u }: { upload: UploadListItem }) {
  if (u.status === 'published' && u.dataset && u.version) return <a href={href.version(u.dataset, u.version)}>Version {u.version}</a>;
  if (u.status === 'quarantined' || u.status === 'rejected' || u.status === 'failed') {
    return (
      <a href={href.upload(u.uploadId)}>
        {u.status === 'quarantined' ? 'Read the report' : 'Why'}
        <span class="visually-hidden"> for {u.file ?? u.key}</span>
      </a>
    );
  }
  return <span class="muted">in progress</span>;
}

/** One upload: where it is, its status and why; a quarantined one's report, problem by problem. */
export function UploadPage({ id }: { id: string }) {
  const loaded = useLoad(`upload ${id}`, (api) => api.get<Upload>(`uploads/${encodeURIComponent(id)}`));
  const title = loaded.state === 'done' ? (loaded.value.file ?? loaded.value.key) : id;
  return (
    <>
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href={href.uploads()}>Uploads</a> › <span aria-current="page">{title}</span>
      </nav>
      <h1>Upload {title}</h1>
      {loaded.state === 'loading' ? <Loading what="the upload" /> : null}
      {loaded.state === 'failed' ? <ErrorNotice error={loaded.error} /> : null}
      {loaded.state === 'done' ? <UploadDetails upload={loaded.value} /> : null}
    </>
  );
}

function UploadDetails({ upload: u }: { upload: Upload }) {
  return (
    <>
      <p>
        <StatusBadge status={u.status} />
      </p>
      {u.status === 'published' && u.dataset && u.version ? (
        <div class="notice ok">
          <p>
            Published as <a href={href.version(u.dataset, u.version)}>{u.dataset} version {u.version}</a>.
          </p>
        </div>
      ) : null}
      {u.reason && u.status !== 'published' ? (
        <div class={`notice ${u.status === 'failed' ? 'error' : 'warn'}`}>
          <h2 class="notice-title">{u.status === 'quarantined' ? 'Why it was quarantined' : u.status === 'rejected' ? 'Why it was rejected' : 'What went wrong'}</h2>
          <p>{u.reason}</p>
        </div>
      ) : null}
      <Facts
        facts={[
          ['Upload id', <code>{u.uploadId}</code>],
          ['Dataset', u.dataset ? <a href={href.dataset(u.dataset)}>{u.dataset}</a> : '—'],
          ['File', u.file ?? '—'],
          ['Size', bytes(u.size)],
          ['Source', u.source === 'api' ? 'API (upload slot)' : 'SFTP'],
          ['Sender', u.sender ?? '—'],
          ['Received', instant(u.receivedAt)],
          ['Last change', instant(u.updatedAt)],
          ['Stored at', <code class="wrap">{u.outcomeKey ?? u.key}</code>],
        ]}
      />
      {u.report ? <Report report={u.report} /> : null}
    </>
  );
}

/** The validation report: counts, then each problem with row, column, rule, value and what to do. */
/** A count of problems per rule or per column, largest first; `other` sums the columns left out. */
function ProblemCounts({ caption, heading, counts, other }: { caption: string; heading: string; counts: readonly [string, number][]; other?: { label: string; count: number } }) {
  return (
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">{heading}</th>
          <th scope="col" class="num">
            Problems
          </th>
        </tr>
      </thead>
      <tbody>
        {counts.map(([name, n]) => (
          <tr key={name}>
            <th scope="row">
              <code>{name}</code>
            </th>
            <td class="num">{count(n)}</td>
          </tr>
        ))}
        {other ? (
          <tr>
            <th scope="row">{other.label}</th>
            <td class="num">{count(other.count)}</td>
          </tr>
        ) : null}
      </tbody>
    </table>
  );
}

function Report({ report }: { report: UploadReport }) {
  const byRule = Object.entries(report.countsByRule).sort((a, b) => b[1] - a[1]);
  const byColumn = Object.entries(report.countsByColumn).sort((a, b) => b[1] - a[1]);
  return (
    <section aria-labelledby="report-heading">
      <h2 id="report-heading">Validation report</h2>
      <p>
        {count(report.errorCount)} problem{report.errorCount === 1 ? '' : 's'} in {count(report.rows)} row{report.rows === 1 ? '' : 's'} ({bytes(report.bytes)}), checked against spec
        revision <code>{shortHash(report.specRevision)}</code>. Fix the file and send it again: the fixed file is validated like any other.
      </p>
      <div class="counts">
        <ProblemCounts caption="Problems by rule" heading="Rule" counts={byRule} />
        <ProblemCounts caption="Problems by column" heading="Column" counts={byColumn} other={report.otherColumns ? { label: 'other columns', count: report.otherColumns } : undefined} />
      </div>
      <table class="problems">
        <caption>
          {report.examples.length < report.errorCount ? `The first ${report.examples.length} of ${count(report.errorCount)} problems` : 'Every problem'}, in the order found
        </caption>
        <thead>
          <tr>
            <th scope="col" class="num">
              Row
            </th>
            <th scope="col">Column</th>
            <th scope="col">Rule</th>
            <th scope="col">Value</th>
            <th scope="col">What is wrong and what to do</th>
          </tr>
        </thead>
        <tbody>
          {report.examples.map((p, i) => (
            <tr key={i}>
              <td class="num">{p.row ?? '—'}</td>
              <td>{p.column ? <code>{p.column}</code> : '—'}</td>
              <td>
                <code>{p.rule}</code>
              </td>
              <td>{p.value !== undefined ? <code>{p.value}</code> : '—'}</td>
              <td>{p.message}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="muted">
        The full report is in the data bucket: <code class="wrap">{report.textKey}</code> (text) and <code class="wrap">{report.jsonKey}</code> (JSON).
      </p>
    </section>
  );
}
