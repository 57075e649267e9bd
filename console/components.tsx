import type { ComponentChildren } from 'preact';
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useState } from 'preact/hooks';
import { ApiError, type ApiClient } from './api.ts';
import { verdictText } from './evaluation-view.ts';
import type { Me } from './types.ts';

/** The API client and the caller, for every page. */
export interface Session {
  readonly api: ApiClient;
  readonly me: Me;
}

export const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside the signed-in console');
  return session;
}

type Loaded<T> = { readonly state: 'loading' } | { readonly state: 'failed'; readonly error: Error } | { readonly state: 'done'; readonly value: T };

/** One request's result, reloaded when `key` changes. */
export function useLoad<T>(key: string, load: (api: ApiClient) => Promise<T>): Loaded<T> {
  const { api } = useSession();
  const [result, setResult] = useState<Loaded<T>>({ state: 'loading' });
  useEffect(() => {
    let current = true;
    setResult({ state: 'loading' });
    load(api).then(
      (value) => current && setResult({ state: 'done', value }),
      (error: unknown) => current && setResult({ state: 'failed', error: error as Error }),
    );
    return () => {
      current = false;
    };
    // `load` is a new closure each render; `key` says when what it loads changed.
  }, [api, key]);
  return result;
}

/** A listing the API hands out a page at a time: the items so far, and "Load more" while a cursor remains. */
export interface Paged<T> {
  readonly items: readonly T[];
  readonly loading: boolean;
  readonly error?: Error;
  readonly more: boolean;
  loadMore(): void;
}

export function usePaged<T>(key: string, load: (api: ApiClient, cursor: string | undefined) => Promise<{ items: T[]; cursor?: string }>): Paged<T> {
  const { api } = useSession();
  const [state, setState] = useState<{ key: string; items: T[]; cursor?: string; done: boolean; loading: boolean; error?: Error }>({
    key,
    items: [],
    done: false,
    loading: true,
  });
  const fetchPage = useCallback(
    (cursor: string | undefined, previous: T[]) => {
      setState({ key, items: previous, ...(cursor ? { cursor } : {}), done: false, loading: true });
      load(api, cursor).then(
        (page) => setState((s) => (s.key !== key ? s : { key, items: [...previous, ...page.items], ...(page.cursor ? { cursor: page.cursor } : {}), done: !page.cursor, loading: false })),
        (error: unknown) => setState((s) => (s.key !== key ? s : { ...s, loading: false, error: error as Error })),
      );
    },
    // As in useLoad: `key` names what `load` loads.
    [api, key],
  );
  useEffect(() => fetchPage(undefined, []), [fetchPage]);
  const current = state.key === key ? state : { items: [], done: false, loading: true };
  return {
    items: current.items,
    loading: current.loading,
    ...('error' in current && current.error ? { error: current.error } : {}),
    more: !current.done && !current.loading,
    loadMore: () => fetchPage('cursor' in current ? current.cursor : undefined, current.items),
  };
}

export function Loading({ what }: { what: string }) {
  return (
    <p role="status" class="muted">
      Loading {what}…
    </p>
  );
}

/** A refused or failed request, said as the API said it. */
export function ErrorNotice({ error }: { error: Error }) {
  const status = error instanceof ApiError && error.status > 0 ? ` (${error.status})` : '';
  return (
    <div role="alert" class="notice error">
      <p>
        <strong>Could not load this{status}.</strong> {error.message}
      </p>
    </div>
  );
}

/** An option of a drop-down: its value, or its value and the words shown for it. */
export type Choice = string | readonly [value: string, label: string];

/**
 * A labelled drop-down of a form. With `any`, an empty first option (the words of `any`) stands
 * for "no filter", and `onChange` gets `undefined` for it.
 */
export function SelectField({ id, label, value, any, choices, onChange }: { id: string; label: string; value: string | undefined; any?: string; choices: readonly Choice[]; onChange: (value: string | undefined) => void }) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select id={id} value={value ?? ''} onChange={(event) => onChange((event.currentTarget as HTMLSelectElement).value || undefined)}>
        {any !== undefined ? <option value="">{any}</option> : null}
        {choices.map((choice) => {
          const [optionValue, optionLabel] = typeof choice === 'string' ? [choice, choice] : choice;
          return (
            <option key={optionValue} value={optionValue}>
              {optionLabel}
            </option>
          );
        })}
      </select>
    </div>
  );
}

/** "Load more" under a paged table, and what is going on. */
export function PageControls<T>({ paged, noun, one }: { paged: Paged<T>; noun: string; one: string }) {
  return (
    <div class="page-controls">
      {paged.error ? <ErrorNotice error={paged.error} /> : null}
      {paged.loading ? <Loading what={noun} /> : null}
      {!paged.loading && !paged.error && paged.items.length === 0 ? <p class="muted">No {noun} yet.</p> : null}
      {paged.more ? (
        <button type="button" onClick={paged.loadMore}>
          Load more {noun}
        </button>
      ) : null}
      {!paged.more && !paged.loading && paged.items.length > 0 ? (
        <p class="muted">{paged.items.length === 1 ? `Showing the only ${one}.` : `Showing all ${paged.items.length} ${noun}.`}</p>
      ) : null}
    </div>
  );
}

const statusWords: Record<string, string> = {
  received: 'Received',
  validating: 'Validating',
  published: 'Published',
  quarantined: 'Quarantined',
  rejected: 'Rejected',
  failed: 'Failed',
  // Evaluations, their requests and their reports.
  queued: 'Queued',
  running: 'Running',
  succeeded: 'Succeeded',
  finished: 'Finished',
  cancelled: 'Cancelled',
  wanted: 'Wanted',
  rendering: 'Rendering',
};

/** A status in words: an upload's, an evaluation's, a request's or a report's. */
export function statusWord(status: string): string {
  return statusWords[status] ?? status;
}

/** A status as a badge (the colour only repeats what the word says). */
export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge status-${status}`}>{statusWord(status)}</span>;
}

/** An evaluation's verdict in words; a regression also by a mark and a heavier border, never by colour alone. */
export function VerdictBadge({ verdict }: { verdict: string | undefined }) {
  if (!verdict) return <span class="muted">—</span>;
  return (
    <span class={`badge verdict-${verdict}`}>
      {verdict === 'regressed' ? '▼ ' : verdict === 'improved' ? '▲ ' : ''}
      {verdictText(verdict)}
    </span>
  );
}

/** A list of facts: term, then what it is. */
export function Facts({ facts }: { facts: readonly (readonly [string, ComponentChildren])[] }) {
  return (
    <dl class="facts">
      {facts.map(([term, detail]) => (
        <div key={term}>
          <dt>{term}</dt>
          <dd>{detail}</dd>
        </div>
      ))}
    </dl>
  );
}
