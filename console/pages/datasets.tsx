import { useState } from 'preact/hooks';
import { ErrorNotice, Facts, Loading, PageControls, useLoad, usePaged, useSession } from '../components.tsx';
import { bytes, count, instant, shortHash, value } from '../format.ts';
import { href } from '../route.ts';
import type { Dataset, DatasetList, DatasetVersion, DatasetVersionPage, VersionDownload } from '../types.ts';

const path = (name: string) => `datasets/${encodeURIComponent(name)}`;

/** Every dataset the caller may read: what it holds, its format and its newest version. */
export function DatasetsPage() {
  const paged = usePaged('datasets', (api, cursor) => api.get<DatasetList>('datasets', { cursor }));
  return (
    <>
      <h1>Datasets</h1>
      <p class="lede">Each dataset has a spec every file is checked against; every valid file becomes an immutable, numbered version.</p>
      {paged.items.length > 0 ? (
        <table>
          <caption class="visually-hidden">Datasets</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Description</th>
              <th scope="col">Format</th>
              <th scope="col">Latest version</th>
              <th scope="col">Spec revision</th>
            </tr>
          </thead>
          <tbody>
            {paged.items.map((d) => (
              <tr key={d.name}>
                <th scope="row">
                  <a href={href.dataset(d.name)}>{d.name}</a>
                </th>
                <td>{d.description ?? '—'}</td>
                <td>{d.format.toUpperCase()}</td>
                <td>{d.latestVersion ? <a href={href.version(d.name, d.latestVersion)}>Version {d.latestVersion}</a> : 'none yet'}</td>
                <td>
                  <code>{shortHash(d.revision)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <PageControls paged={paged} noun="datasets" one="dataset" />
    </>
  );
}

/** One dataset: its spec, column by column, and its versions, newest first. */
export function DatasetPage({ name }: { name: string }) {
  const dataset = useLoad(`dataset ${name}`, (api) => api.get<Dataset>(path(name)));
  const versions = usePaged(`versions ${name}`, (api, cursor) => api.get<DatasetVersionPage>(`${path(name)}/versions`, { cursor }));
  return (
    <>
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href={href.datasets()}>Datasets</a> › <span aria-current="page">{name}</span>
      </nav>
      <h1>Dataset {name}</h1>
      {dataset.state === 'loading' ? <Loading what="the dataset" /> : null}
      {dataset.state === 'failed' ? <ErrorNotice error={dataset.error} /> : null}
      {dataset.state === 'done' ? <DatasetSpec dataset={dataset.value} /> : null}
      <section aria-labelledby="versions-heading">
        <h2 id="versions-heading">Versions</h2>
        {versions.items.length > 0 ? <VersionTable versions={versions.items} /> : null}
        <PageControls paged={versions} noun="versions" one="version" />
      </section>
      <p>
        <a href={href.uploads({ dataset: name })}>Uploads to {name}</a>
      </p>
    </>
  );
}

function DatasetSpec({ dataset }: { dataset: Dataset }) {
  const { spec } = dataset;
  return (
    <>
      {dataset.description ? <p class="lede">{dataset.description}</p> : null}
      <Facts
        facts={[
          ['Format', spec.format === 'csv' ? `CSV (delimiter ${JSON.stringify(spec.delimiter)}, quote ${JSON.stringify(spec.quote)})` : 'JSON Lines'],
          ['Spec revision', <code>{shortHash(dataset.revision)}</code>],
          ['Latest version', dataset.latest ? <a href={href.version(dataset.name, dataset.latest.version)}>Version {dataset.latest.version}</a> : 'none yet'],
          ['Rows', `at least ${count(spec.minRows)}${spec.maxRows !== undefined ? `, at most ${count(spec.maxRows)}` : ''}`],
          ['Largest file', bytes(spec.maxBytes)],
          ['Unique together', spec.unique?.length ? spec.unique.join(', ') : '—'],
          ['Unknown columns', spec.unknownColumns === 'reject' ? 'refused' : 'ignored'],
          ['Missing columns', spec.missingColumns === 'reject' ? 'refused' : 'read as empty'],
        ]}
      />
      <section aria-labelledby="spec-heading">
        <h2 id="spec-heading">Columns</h2>
        <table>
          <caption class="visually-hidden">Columns of the spec</caption>
          <thead>
            <tr>
              <th scope="col">Column</th>
              <th scope="col">Type</th>
              <th scope="col">Empty allowed</th>
              <th scope="col">Rules</th>
            </tr>
          </thead>
          <tbody>
            {spec.columns.map((c) => (
              <tr key={c.name}>
                <th scope="row">
                  <code>{c.name}</code>
                </th>
                <td>{c.type}</td>
                <td>{c.nullable ? 'yes' : 'no'}</td>
                <td>{columnRules(c) || '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}

function columnRules(c: Dataset['spec']['columns'][number]): string {
  const rules: string[] = [];
  if (c.min !== undefined) rules.push(`at least ${c.min}`);
  if (c.max !== undefined) rules.push(`at most ${c.max}`);
  if (c.enum) rules.push(`one of ${c.enum.join(', ')}`);
  if (c.pattern) rules.push(`matches ${c.pattern}`);
  if (c.maxLength !== undefined) rules.push(`at most ${c.maxLength} characters`);
  return rules.join('; ');
}

function VersionTable({ versions }: { versions: readonly DatasetVersion[] }) {
  return (
    <table>
      <caption class="visually-hidden">Versions, newest first</caption>
      <thead>
        <tr>
          <th scope="col">Version</th>
          <th scope="col">Published</th>
          <th scope="col" class="num">
            Rows
          </th>
          <th scope="col" class="num">
            Size
          </th>
          <th scope="col">File</th>
          <th scope="col">Sender</th>
        </tr>
      </thead>
      <tbody>
        {versions.map((v) => (
          <tr key={v.version}>
            <th scope="row">
              <a href={href.version(v.dataset, v.version)}>Version {v.version}</a>
            </th>
            <td>{instant(v.createdAt)}</td>
            <td class="num">{count(v.rows)}</td>
            <td class="num">{bytes(v.bytes)}</td>
            <td>{v.file}</td>
            <td>{v.sender ?? '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** One version: what it holds, what validation measured per column, and its download. */
export function VersionPage({ name, version }: { name: string; version: string }) {
  const loaded = useLoad(`version ${name} ${version}`, (api) => api.get<DatasetVersion>(`${path(name)}/versions/${encodeURIComponent(version)}`));
  return (
    <>
      <nav aria-label="Breadcrumb" class="crumbs">
        <a href={href.datasets()}>Datasets</a> › <a href={href.dataset(name)}>{name}</a> › <span aria-current="page">Version {version}</span>
      </nav>
      <h1>
        {name}, version {version}
      </h1>
      {loaded.state === 'loading' ? <Loading what="the version" /> : null}
      {loaded.state === 'failed' ? <ErrorNotice error={loaded.error} /> : null}
      {loaded.state === 'done' ? <VersionDetails version={loaded.value} /> : null}
    </>
  );
}

function VersionDetails({ version: v }: { version: DatasetVersion }) {
  return (
    <>
      <Facts
        facts={[
          ['Published', instant(v.createdAt)],
          ['Rows', count(v.rows)],
          ['Size', `${bytes(v.bytes)} (${count(v.bytes)} bytes)`],
          ['File', v.file],
          ['sha256', <code class="wrap">{v.sha256}</code>],
          ['Spec revision', <code>{shortHash(v.specRevision)}</code>],
          ['Sender', v.sender ?? '—'],
          ['Upload', <a href={href.upload(v.uploadId)}>{v.uploadId}</a>],
        ]}
      />
      <Download version={v} />
      <section aria-labelledby="profile-heading">
        <h2 id="profile-heading">Profile per column</h2>
        <p class="muted">What validation measured while reading the file. Distinct counts are estimates (about 1.6 % error).</p>
        <table>
          <caption class="visually-hidden">Column profile</caption>
          <thead>
            <tr>
              <th scope="col">Column</th>
              <th scope="col" class="num">
                Values
              </th>
              <th scope="col" class="num">
                Empty
              </th>
              <th scope="col">Smallest</th>
              <th scope="col">Largest</th>
              <th scope="col" class="num">
                Distinct (est.)
              </th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(v.profile).map(([column, p]) => (
              <tr key={column}>
                <th scope="row">
                  <code>{column}</code>
                </th>
                <td class="num">{p.values === undefined ? '—' : count(p.values)}</td>
                <td class="num">{count(p.nulls)}</td>
                <td>{value(p.min)}</td>
                <td>{value(p.max)}</td>
                <td class="num">{count(p.distinctEstimate)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}

/** Asks the API for a presigned URL and hands it to the browser, which saves the file. */
function Download({ version: v }: { version: DatasetVersion }) {
  const { api } = useSession();
  const [state, setState] = useState<{ busy: boolean; link?: VersionDownload; error?: Error }>({ busy: false });
  const start = async () => {
    setState({ busy: true });
    try {
      const link = await api.get<VersionDownload>(`${path(v.dataset)}/versions/${v.version}/download`);
      setState({ busy: false, link });
      location.assign(link.url);
    } catch (error) {
      setState({ busy: false, error: error as Error });
    }
  };
  return (
    <section aria-labelledby="download-heading">
      <h2 id="download-heading">Download</h2>
      <p>
        <button type="button" class="primary" onClick={start} disabled={state.busy}>
          Download {v.file} ({bytes(v.bytes)})
        </button>
      </p>
      <div role="status">
        {state.busy ? <p class="muted">Asking for a download link…</p> : null}
        {state.link ? (
          <p>
            Your browser is saving <strong>{state.link.fileName}</strong>. The link works until {instant(state.link.expiresAt)}; check the file against sha256{' '}
            <code class="wrap">{state.link.sha256}</code>. If nothing happens, <a href={state.link.url}>download it here</a>.
          </p>
        ) : null}
      </div>
      {state.error ? <ErrorNotice error={state.error} /> : null}
    </section>
  );
}
