import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

/** The folder of the stage wrapper and the base image's Dockerfile. */
export const stageDir = dirname(fileURLToPath(import.meta.url));

/**
 * The build context of the stage base image: `Dockerfile` and `wrapper.mjs` (stage/wrapper.ts
 * bundled by esbuild, the way the functions are bundled). The folder is named by the hash of its
 * contents, so a synth reuses it and the image asset's hash follows the wrapper's code.
 */
export function stageImageContext(): string {
  const result = buildSync({
    entryPoints: [join(stageDir, 'wrapper.ts')],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    legalComments: 'none',
    mainFields: ['module', 'main'],
    // Some dependencies still call require(); ESM bundles need it defined.
    banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
    logLevel: 'silent',
  });
  const bundle = result.outputFiles[0]!.contents;
  const dockerfile = join(stageDir, 'Dockerfile');
  const hash = createHash('sha256').update(bundle).update(readFileSync(dockerfile)).digest('hex').slice(0, 16);
  const context = join(tmpdir(), `symbiont-stage-image-${hash}`);
  if (!existsSync(join(context, 'wrapper.mjs'))) {
    const partial = `${context}.${process.pid}.part`;
    mkdirSync(partial, { recursive: true });
    copyFileSync(dockerfile, join(partial, 'Dockerfile'));
    writeFileSync(join(partial, 'wrapper.mjs'), bundle);
    try {
      renameSync(partial, context);
    } catch (error) {
      // Another synth made it first: theirs is the same.
      if (!existsSync(join(context, 'wrapper.mjs'))) throw error;
    }
  }
  return context;
}
