import type { ReportFilters } from '../route.ts';

// Placeholder wiring only: the pages are being written (issue #19).
export function ReportsPage(_: { filters: ReportFilters }) {
  return <h1>Reports</h1>;
}
export function ReportPage({ id }: { id: string }) {
  return <h1>Report {id}</h1>;
}
