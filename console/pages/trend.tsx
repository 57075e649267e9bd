import type { TrendFilters } from '../route.ts';

// Placeholder wiring only: the page is being written (issue #19).
export function TrendPage({ name }: { name: string; filters: TrendFilters }) {
  return <h1>Trend of {name}</h1>;
}
