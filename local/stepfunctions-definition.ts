import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StateMachineJson } from '../infra/constructs/evaluation-definition.ts';

/**
 * The evaluation state machine definition the local runtime runs: built by the stack's own
 * builder (`infra/constructs/evaluation-definition.ts`, in a throwaway CDK stack with a
 * placeholder tasks ARN), so local and AWS run the same ASL. Building it loads aws-cdk-lib, which
 * takes seconds; the result is kept in the data directory, keyed by the builder's sources and the
 * CDK version, so a restart with nothing changed reads it back instead.
 */

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The files whose change changes the definition. */
const sources = ['infra/constructs/evaluation-definition.ts', 'layers/evaluation/states.ts', 'layers/shared/resources.ts'];

function cacheKey(tasksArn: string): string {
  const hash = createHash('sha256');
  for (const file of sources) hash.update(readFileSync(join(root, file)));
  const require = createRequire(import.meta.url);
  hash.update((require('aws-cdk-lib/package.json') as { version: string }).version);
  hash.update(tasksArn);
  return hash.digest('hex');
}

/** The definition, from `<cacheDir>/evaluation-definition.json` when it is current, else built (and kept). */
export async function loadEvaluationDefinition(cacheDir: string, tasksArn: string): Promise<{ definition: StateMachineJson; cached: boolean }> {
  const key = cacheKey(tasksArn);
  const file = join(cacheDir, 'evaluation-definition.json');
  if (existsSync(file)) {
    try {
      const kept = JSON.parse(readFileSync(file, 'utf8')) as { key?: string; definition?: StateMachineJson };
      if (kept.key === key && kept.definition) return { definition: kept.definition, cached: true };
    } catch {
      // Unreadable: built again below.
    }
  }
  const { evaluationDefinitionJson } = await import('../infra/constructs/evaluation-definition.ts');
  const definition = evaluationDefinitionJson(tasksArn);
  mkdirSync(cacheDir, { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify({ key, definition }));
  renameSync(temporary, file);
  return { definition, cached: false };
}
