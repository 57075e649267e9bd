/**
 * A CloudFormation value as a plain string, for running a synthesized function outside AWS (the
 * bundle tests and the functions benchmark): literal strings kept, a `Fn::Join`'s literal parts kept
 * (so JSON stays JSON), every reference (Ref, GetAtt) a placeholder.
 */
export function standInValue(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  return join ? join[1].map(standInValue).join(join[0]) : 'from-template';
}
