import { Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * cdk-nag acknowledges one finding id at a time; its IAM5 ids name the resource as
 * `<LogicalId.Arn>/…`. This builds that id for a construct's resource, so an acknowledgement
 * covers exactly the wildcard it explains and nothing else.
 */
export function arnWildcardFinding(resource: IConstruct, suffix: string): string {
  const element = resource.node.defaultChild as CfnElement | undefined;
  if (!element) throw new Error(`${resource.node.path} has no CloudFormation resource to name`);
  return `AwsSolutions-IAM5[Resource::<${Stack.of(resource).getLogicalId(element)}.Arn>${suffix}]`;
}

/** Acknowledges exact findings on `scope`, all for the same reason. */
export function acknowledge(scope: IConstruct, reason: string, ...ids: string[]): void {
  for (const id of ids) Validations.of(scope).acknowledge({ id, reason });
}
