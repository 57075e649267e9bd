import { render, type ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, cookieClient, signedClient, type ApiClient } from './api.ts';
import { restoreSession, signIn, type CognitoConfig, type CognitoSession } from './auth.ts';
import { ErrorNotice, SessionContext, type Session } from './components.tsx';
import { DatasetPage, DatasetsPage, VersionPage } from './pages/datasets.tsx';
import { ComparePage, EvaluationPage, EvaluationsPage, RequestPage } from './pages/evaluations.tsx';
import { ReportPage, ReportsPage } from './pages/reports.tsx';
import { TrendPage } from './pages/trend.tsx';
import { SftpUsersPage } from './pages/sftp-users.tsx';
import { UploadPage, UploadsPage } from './pages/uploads.tsx';
import { href, parseRoute, type Route } from './route.ts';
import type { ConsoleConfig, Me } from './types.ts';
import './styles.css';

/**
 * The console's entry: learn how to sign in here (`console/config.json`), find out who the API
 * takes the caller for (`GET /me`), then show the page the hash names.
 */

type Boot =
  | { readonly state: 'starting' }
  | { readonly state: 'signed-out'; readonly config: ConsoleConfig; readonly problem?: string }
  | { readonly state: 'failed'; readonly error: Error }
  | { readonly state: 'ready'; readonly session: Session; readonly cognito?: CognitoSession };

async function boot(): Promise<Boot> {
  const response = await fetch(new URL('console/config.json', document.baseURI));
  if (!response.ok) throw new Error(`console/config.json answered ${response.status}`);
  const config = (await response.json()) as ConsoleConfig;
  let api: ApiClient;
  let cognito: CognitoSession | undefined;
  if (config.mode === 'cognito') {
    cognito = await restoreSession(config);
    if (!cognito) return { state: 'signed-out', config };
    api = signedClient(cognito);
  } else {
    api = cookieClient();
  }
  try {
    const me = await api.get<Me>('me');
    return { state: 'ready', session: { api, me }, ...(cognito ? { cognito } : {}) };
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return { state: 'signed-out', config, problem: error.message };
    throw error;
  }
}

function Console() {
  const [state, setState] = useState<Boot>({ state: 'starting' });
  useEffect(() => {
    boot().then(setState, (error: unknown) => setState({ state: 'failed', error: error as Error }));
  }, []);
  if (state.state === 'starting') {
    return (
      <Frame>
        <p role="status">Starting the console…</p>
      </Frame>
    );
  }
  if (state.state === 'failed') {
    return (
      <Frame>
        <h1>The console could not start</h1>
        <ErrorNotice error={state.error} />
      </Frame>
    );
  }
  if (state.state === 'signed-out') return <SignedOut config={state.config} {...(state.problem ? { problem: state.problem } : {})} />;
  return (
    <SessionContext.Provider value={state.session}>
      <Frame me={state.session.me} {...(state.cognito ? { cognito: state.cognito } : {})}>
        <Pages />
      </Frame>
    </SessionContext.Provider>
  );
}

/** The page around every page: skip link, header with navigation and who is signed in, main. */
function Frame({ me, cognito, children }: { me?: Me; cognito?: CognitoSession; children: ComponentChildren }) {
  const route = useRoute();
  const current = (pages: readonly Route['page'][]) => (pages.includes(route.page) ? { 'aria-current': 'page' as const } : {});
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header class="top">
        <p class="brand">
          <a href={href.datasets()}>Symbiont</a>
        </p>
        {me ? (
          <nav aria-label="Main">
            <ul>
              <li>
                <a href={href.datasets()} {...current(['datasets', 'dataset', 'version'])}>
                  Datasets
                </a>
              </li>
              <li>
                <a href={href.uploads()} {...current(['uploads', 'upload'])}>
                  Uploads
                </a>
              </li>
              <li>
                <a href={href.evaluations()} {...current(['evaluations', 'evaluation', 'request', 'compare', 'trend'])}>
                  Evaluations
                </a>
              </li>
              <li>
                <a href={href.reports()} {...current(['reports', 'report'])}>
                  Reports
                </a>
              </li>
              {me.role === 'admin' ? (
                <li>
                  <a href={href.sftpUsers()} {...current(['sftp-users'])}>
                    SFTP users
                  </a>
                </li>
              ) : null}
              <li>
                <a href="docs">API docs</a>
              </li>
            </ul>
          </nav>
        ) : null}
        {me ? (
          <p class="who">
            Signed in as <strong>{cognito?.email ?? me.name}</strong> <span class="role">({me.role})</span>
            {cognito ? (
              <button type="button" class="link" onClick={() => cognito.signOut()}>
                Sign out
              </button>
            ) : null}
          </p>
        ) : null}
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}

function SignedOut({ config, problem }: { config: ConsoleConfig; problem?: string }) {
  return (
    <Frame>
      <h1>Sign in to Symbiont</h1>
      {problem ? (
        <div role="alert" class="notice warn">
          <p>{problem}</p>
        </div>
      ) : null}
      {config.mode === 'cognito' ? (
        <>
          <p>Sign in with the account an admin created for you. Your group (admin, scientist or uploader) decides what you may see.</p>
          <p>
            <button type="button" class="primary" onClick={() => void signIn(config as CognitoConfig)}>
              Sign in
            </button>
          </p>
        </>
      ) : (
        <p>
          Open the console link that <code>npm start</code> printed (<code>http://127.0.0.1:&lt;port&gt;/?token=…</code>); it signs this browser in. The tokens are in{' '}
          <code>.symbiont/tokens.json</code>.
        </p>
      )}
    </Frame>
  );
}

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const changed = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return route;
}

const titles: Record<Route['page'], string> = {
  datasets: 'Datasets',
  dataset: 'Dataset',
  version: 'Version',
  uploads: 'Uploads',
  upload: 'Upload',
  'sftp-users': 'SFTP users',
  evaluations: 'Evaluations',
  evaluation: 'Evaluation',
  request: 'Evaluation request',
  compare: 'Compare',
  trend: 'Trend',
  reports: 'Reports',
  report: 'Report',
  'not-found': 'Not found',
};

/** The page the hash names; moving to another page moves the focus to its content, as a page load would. */
function Pages() {
  const route = useRoute();
  const first = useRef(true);
  useEffect(() => {
    const name = 'name' in route ? ` ${route.name}` : 'id' in route ? ` ${route.id}` : '';
    document.title = `${titles[route.page]}${name} · Symbiont`;
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById('main')?.focus();
    scrollTo(0, 0);
  }, [route]);
  switch (route.page) {
    case 'datasets':
      return <DatasetsPage />;
    case 'dataset':
      return <DatasetPage key={route.name} name={route.name} />;
    case 'version':
      return <VersionPage key={`${route.name}/${route.version}`} name={route.name} version={route.version} />;
    case 'uploads':
      return <UploadsPage key={JSON.stringify(route.filters)} filters={route.filters} />;
    case 'upload':
      return <UploadPage key={route.id} id={route.id} />;
    case 'sftp-users':
      return <SftpUsersPage />;
    case 'evaluations':
      return <EvaluationsPage key={JSON.stringify(route.filters)} filters={route.filters} />;
    case 'evaluation':
      return <EvaluationPage key={route.id} id={route.id} />;
    case 'request':
      return <RequestPage key={route.id} id={route.id} />;
    case 'compare':
      return <ComparePage key={`${route.head}/${route.base ?? ''}`} head={route.head} {...(route.base ? { base: route.base } : {})} />;
    case 'trend':
      return <TrendPage key={`${route.name}?${JSON.stringify(route.filters)}`} name={route.name} filters={route.filters} />;
    case 'reports':
      return <ReportsPage key={JSON.stringify(route.filters)} filters={route.filters} />;
    case 'report':
      return <ReportPage key={route.id} id={route.id} />;
    case 'not-found':
      return (
        <>
          <h1>No such page</h1>
          <p>
            Nothing lives at <code>#{route.path}</code>. Go to the <a href={href.datasets()}>datasets</a> or the <a href={href.uploads()}>uploads</a>.
          </p>
        </>
      );
  }
}

render(<Console />, document.getElementById('console')!);
