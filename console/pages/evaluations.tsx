import type { EvaluationFilters } from '../route.ts';

// Placeholder wiring only: the pages are being written (issue #19).
export function EvaluationsPage(_: { filters: EvaluationFilters }) {
  return <h1>Evaluations</h1>;
}
export function EvaluationPage({ id }: { id: string }) {
  return <h1>Evaluation {id}</h1>;
}
export function RequestPage({ id }: { id: string }) {
  return <h1>Evaluation request {id}</h1>;
}
export function ComparePage({ head }: { head: string; base?: string }) {
  return <h1>Compare {head}</h1>;
}
