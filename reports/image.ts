import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

/** The folder of the report executor's Dockerfile. */
export const reportsImageDir = dirname(fileURLToPath(import.meta.url));
const projectRoot = resolve(reportsImageDir, '..');

/** The files of the image's build context, as the Dockerfile copies them. */
export const reportImageFiles = ['Dockerfile', 'handler.mjs', 'handler.mjs.map', 'kernel-runner.py', 'symbiont.config.json'] as const;

/**
 * The build context of the report executor image: `Dockerfile`, `handler.mjs` (the render-report
 * handler bundled by esbuild the way the zip functions are), `kernel-runner.py` (which the bundled
 * executor finds beside itself) and the config. The folder is named by the hash of its contents,
 * so a synth reuses it and the image asset's hash follows the code, the Dockerfile and the config.
 * Staging needs no Docker: `cdk deploy` builds the image.
 */
export function reportImageContext(configFile: string): string {
  const result = buildSync({
    entryPoints: [join(projectRoot, 'functions', 'render-report', 'handler.ts')],
    bundle: true,
    write: false,
    outfile: 'handler.mjs',
    sourcemap: 'external',
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
  const bundle = result.outputFiles.find((file) => file.path.endsWith('.mjs'))!.contents;
  const map = result.outputFiles.find((file) => file.path.endsWith('.mjs.map'))!.contents;
  const sources: Record<(typeof reportImageFiles)[number], Uint8Array> = {
    Dockerfile: readFileSync(join(reportsImageDir, 'Dockerfile')),
    'handler.mjs': bundle,
    'handler.mjs.map': map,
    'kernel-runner.py': readFileSync(join(projectRoot, 'layers', 'reports', 'kernel-runner.py')),
    'symbiont.config.json': readFileSync(configFile),
  };
  const hash = createHash('sha256');
  for (const name of reportImageFiles) hash.update(name).update(sources[name]);
  const context = join(tmpdir(), `symbiont-report-image-${hash.digest('hex').slice(0, 16)}`);
  if (!existsSync(join(context, 'handler.mjs'))) {
    const partial = `${context}.${process.pid}.part`;
    mkdirSync(partial, { recursive: true });
    for (const name of reportImageFiles) writeFileSync(join(partial, name), sources[name]);
    try {
      renameSync(partial, context);
    } catch (error) {
      // Another synth made it first: theirs is the same.
      if (!existsSync(join(context, 'handler.mjs'))) throw error;
    }
  }
  return context;
}

