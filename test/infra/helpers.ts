import { App } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '#config/load';
import { projectRoot } from '../../infra/constructs/function.ts';
import { resolveSettings } from '../../infra/settings.ts';
import { SymbiontStack } from '../../infra/stack.ts';

/** The context the CDK CLI would pass: cdk.json's, plus any `-c` overrides. */
export function cdkContext(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(projectRoot, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  // Bundling is skipped here: `npm run synth` (part of `npm test`) bundles every function for real.
  return { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], ...overrides };
}

export interface Synthesized {
  readonly app: App;
  readonly stack: SymbiontStack;
  readonly template: Template;
}

/** Builds the stack from the example config the way `infra/app.ts` does, without the nag plugin. */
export function synthesize(overrides: Record<string, unknown> = {}): Synthesized {
  const app = new App({ context: cdkContext(overrides) });
  const { config, file } = loadConfig(join(projectRoot, 'symbiont.config.json'));
  const settings = resolveSettings(config.stack, (key) => app.node.tryGetContext(key));
  const stack = new SymbiontStack(app, `Symbiont-${settings.stage}`, { config, configFile: file, settings });
  return { app, stack, template: Template.fromStack(stack) };
}

/** cdk-nag's AwsSolutions findings that nobody acknowledged, as `rule at path` lines. */
export function unacknowledgedFindings(scope: IConstruct): string[] {
  const report = new AwsSolutionsChecks().validateScope(scope);
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => `${v.ruleName} at ${(r as { constructPath?: string }).constructPath ?? r.resourceLogicalId}: ${v.description.slice(0, 100)}`),
  );
}

type Statement = { Action: string | string[]; Resource?: unknown; Effect: string };

/** Every policy statement attached to the stack's roles, flattened. */
export function policyStatements(template: Template): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy');
  const roles = template.findResources('AWS::IAM::Role');
  const inline = Object.values(roles).flatMap(
    (r) => ((r.Properties?.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[]).flatMap((p) => p.PolicyDocument.Statement),
  );
  return [
    ...Object.values(policies).flatMap((p) => (p.Properties.PolicyDocument.Statement as Statement[]) ?? []),
    ...inline,
  ];
}

/** The actions of `statements` that hold a wildcard (the standing rule: there must be none). */
export function wildcardActions(statements: readonly Pick<Statement, 'Action'>[]): string[] {
  return statements.flatMap((s) => [s.Action].flat()).filter((action) => action.includes('*'));
}

/** The logical id of the only resource of `type` whose logical id contains `hint`. */
export function logicalId(template: Template, type: string, hint: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.includes(hint));
  if (ids.length !== 1) throw new Error(`expected one ${type} matching "${hint}", found ${ids.join(', ') || 'none'}`);
  return ids[0]!;
}
