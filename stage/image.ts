import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleForImage, stageImageFiles } from '../infra/image-context.ts';

/** The folder of the stage wrapper and the base image's Dockerfile. */
export const stageDir = dirname(fileURLToPath(import.meta.url));

/**
 * The build context of the stage base image: `Dockerfile` and `wrapper.mjs` (stage/wrapper.ts
 * bundled the way the functions are bundled), staged in a folder named by the hash of both.
 */
export function stageImageContext(): string {
  const { code } = bundleForImage(join(stageDir, 'wrapper.ts'), 'wrapper.mjs');
  return stageImageFiles('stage-image', { Dockerfile: readFileSync(join(stageDir, 'Dockerfile')), 'wrapper.mjs': code }, 'wrapper.mjs');
}
