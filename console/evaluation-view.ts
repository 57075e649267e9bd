import type { EvaluationFilters } from './route.ts';

/**
 * What the evaluation pages compute before they draw: parameters, scores and deltas as text, a
 * filter the API would refuse, a request's progress, and which of two chosen evaluations is judged
 * against which. Pure, so the unit tests read it without a browser.
 */

export const evaluationStatuses = ['running', 'succeeded', 'failed', 'cancelled'] as const;

const verdictWords: Record<string, string> = {
  improved: 'Improved',
  unchanged: 'Unchanged',
  regressed: 'Regressed',
  'no-baseline': 'No baseline',
};

/** A verdict in words (the badge's colour only repeats them). */
export function verdictText(verdict: string | undefined): string {
  return verdict ? (verdictWords[verdict] ?? verdict) : '—';
}

/** `alpha=0.1, window=3`, by name; `—` for the pipeline's only point. */
export function parametersText(parameters: Readonly<Record<string, string | number | boolean>>): string {
  const names = Object.keys(parameters).sort();
  return names.length === 0 ? '—' : names.map((name) => `${name}=${String(parameters[name])}`).join(', ');
}

/** A score: up to four significant digits, no exponent for the usual sizes. */
export function score(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  if (n === 0) return '0';
  const digits = Math.max(0, 3 - Math.floor(Math.log10(Math.abs(n))));
  return n.toFixed(Math.min(digits, 6)).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');
}

/** A change, with its sign always written: `+0.12`, `−0.5` (a true minus), `±0`. */
export function signed(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  if (n === 0) return '±0';
  return `${n > 0 ? '+' : '−'}${score(Math.abs(n))}`;
}

/** A relative change as a signed percentage: `+12.5 %`. */
export function percent(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '—';
  const value = Math.round(n * 1000) / 10;
  return value === 0 ? '±0 %' : `${value > 0 ? '+' : '−'}${Math.abs(value)} %`;
}

/** The tolerance band around a baseline value: `0.91 – 1.05`. */
export function band(base: number | undefined, allowed: number | undefined): string {
  if (base === undefined || allowed === undefined) return '—';
  return `${score(base - allowed)} – ${score(base + allowed)}`;
}

/** Why the API would refuse these filters, said before asking it; undefined when it would not. */
export function filterProblem(filters: EvaluationFilters): string | undefined {
  if (filters.pipeline && !/^[a-z][a-z0-9_-]*$/.test(filters.pipeline)) return 'A pipeline name is lower-case letters, digits, "-" and "_", starting with a letter.';
  if (Boolean(filters.repository) !== Boolean(filters.commit)) return 'Give a repository and a commit together: the list shows the evaluations whose commit set holds that commit.';
  if (filters.commit && !/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(filters.commit)) return 'A commit is its full sha: 40 lower-case hex digits.';
  return undefined;
}

/** How far a request is: settled points (done, failed or cancelled) of its total, and whether it still moves. */
export interface Progress {
  readonly settled: number;
  readonly total: number;
  /** 0 to 100, whole. */
  readonly percent: number;
  /** queued or running: worth asking again, and worth cancelling. */
  readonly active: boolean;
}

export function progress(request: { total: number; done: number; failed: number; cancelled: number; status: string }): Progress {
  const settled = Math.min(request.total, request.done + request.failed + request.cancelled);
  return {
    settled,
    total: request.total,
    percent: request.total === 0 ? 100 : Math.floor((settled / request.total) * 100),
    active: request.status === 'queued' || request.status === 'running',
  };
}

/**
 * Two evaluations chosen to compare: the newer one is judged (head) against the older (base).
 * Evaluation ids are ULIDs, so the later id is the newer evaluation.
 */
export function comparePair(chosen: readonly string[]): { head: string; base: string } | undefined {
  if (chosen.length !== 2) return undefined;
  const [a, b] = chosen as [string, string];
  return a > b ? { head: a, base: b } : { head: b, base: a };
}

/** A commit set as `repository@short sha` pairs, by repository. */
export function commitPairs(commitSet: Readonly<Record<string, string>>): { repository: string; sha: string; short: string }[] {
  return Object.keys(commitSet)
    .sort()
    .map((repository) => ({ repository, sha: commitSet[repository]!, short: commitSet[repository]!.slice(0, 7) }));
}

/** Milliseconds as `1.2 s`, `3 min 4 s`. */
export function duration(ms: number | undefined): string {
  if (ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms - minutes * 60_000) / 1000)} s`;
}
