import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';

/**
 * The build contexts of Symbiont's container images (the stage base image, the report executor):
 * code bundled by esbuild the way the zip functions are bundled, staged beside the image's other
 * files in a folder named by the hash of them all, so a synth reuses it and the image asset's hash
 * follows the code. Staging needs no Docker: `cdk deploy` builds the image.
 */

/** Some dependencies still call require(); ESM bundles need it defined. */
export const ESM_REQUIRE_BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/**
 * `entry` bundled as one minified ESM file for Node 22 that the image keeps as `outfile`, with its
 * source map (`<outfile>.map`, which the bundle names) when asked.
 */
export function bundleForImage(entry: string, outfile: string, options: { sourcemap?: boolean } = {}): { readonly code: Uint8Array; readonly map?: Uint8Array } {
  const result = buildSync({
    entryPoints: [entry],
    bundle: true,
    write: false,
    outfile,
    ...(options.sourcemap ? { sourcemap: 'external' as const } : {}),
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: true,
    legalComments: 'none',
    mainFields: ['module', 'main'],
    banner: { js: ESM_REQUIRE_BANNER },
    logLevel: 'silent',
  });
  const code = result.outputFiles.find((file) => file.path.endsWith('.mjs'))!.contents;
  const map = result.outputFiles.find((file) => file.path.endsWith('.mjs.map'))?.contents;
  return { code, ...(map ? { map } : {}) };
}

/**
 * A folder `symbiont-<label>-<hash>` in the temporary directory holding `files` (name → content),
 * made once: written under a partial name and renamed, so a concurrent synth finds either nothing
 * or the whole folder. `complete` is the file whose presence says the folder is there.
 */
export function stageImageFiles(label: string, files: Readonly<Record<string, Uint8Array>>, complete: string): string {
  const hash = createHash('sha256');
  for (const [name, content] of Object.entries(files)) hash.update(name).update(content);
  const context = join(tmpdir(), `symbiont-${label}-${hash.digest('hex').slice(0, 16)}`);
  if (!existsSync(join(context, complete))) {
    const partial = `${context}.${process.pid}.part`;
    mkdirSync(partial, { recursive: true });
    for (const [name, content] of Object.entries(files)) writeFileSync(join(partial, name), content);
    try {
      renameSync(partial, context);
    } catch (error) {
      // Another synth made it first: theirs is the same.
      if (!existsSync(join(context, complete))) throw error;
    }
  }
  return context;
}
