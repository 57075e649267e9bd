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
 * takes seconds; the result is kept in `node_modules/.cache/symbiont/`, keyed by the builder's
 * sources and the CDK version, so a start with nothing changed (any data directory: tests boot
 * many) reads it back instead.
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

/** Where built definitions are kept. */
export const DEFINITION_CACHE = join(root, 'node_modules', '.cache', 'symbiont');

/** The definition, from the cache when one for these sources is there, else built (and kept). */
export async function loadEvaluationDefinition(tasksArn: string, cacheDir = DEFINITION_CACHE): Promise<{ definition: StateMachineJson; cached: boolean }> {
  const key = cacheKey(tasksArn);
  const file = join(cacheDir, `evaluation-definition-${key.slice(0, 16)}.json`);
  if (existsSync(file)) {
    try {
      const kept = JSON.parse(readFileSync(file, 'utf8')) as { key?: string; definition?: StateMachineJson };
      if (kept.key === key && kept.definition) return { definition: kept.definition, cached: true };
    } catch {
      // Unreadable (a write cut short): built again below.
    }
  }
  const { evaluationDefinitionJson } = await import('../infra/constructs/evaluation-definition.ts');
  const definition = evaluationDefinitionJson(tasksArn);
  try {
    mkdirSync(cacheDir, { recursive: true });
    // Written aside and renamed: runtimes starting at once never read half a file.
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify({ key, definition }));
    renameSync(temporary, file);
  } catch {
    // Not writable: built again on the next start, which is only slower.
  }
  return { definition, cached: false };
}
