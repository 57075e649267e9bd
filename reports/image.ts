import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleForImage, stageImageFiles } from '../infra/image-context.ts';

/** The folder of the report executor's Dockerfile. */
export const reportsImageDir = dirname(fileURLToPath(import.meta.url));
const projectRoot = resolve(reportsImageDir, '..');

/** The files of the image's build context, as the Dockerfile copies them. */
export const reportImageFiles = ['Dockerfile', 'handler.mjs', 'handler.mjs.map', 'kernel-runner.py', 'symbiont.config.json'] as const;

/**
 * The build context of the report executor image: `Dockerfile`, `handler.mjs` (the render-report
 * handler bundled by esbuild the way the zip functions are), `kernel-runner.py` (which the bundled
 * executor finds beside itself) and the config, staged in a folder named by the hash of them all.
 */
export function reportImageContext(configFile: string): string {
  const { code, map } = bundleForImage(join(projectRoot, 'functions', 'render-report', 'handler.ts'), 'handler.mjs', { sourcemap: true });
  const sources: Record<(typeof reportImageFiles)[number], Uint8Array> = {
    Dockerfile: readFileSync(join(reportsImageDir, 'Dockerfile')),
    'handler.mjs': code,
    'handler.mjs.map': map!,
    'kernel-runner.py': readFileSync(join(projectRoot, 'layers', 'reports', 'kernel-runner.py')),
    'symbiont.config.json': readFileSync(configFile),
  };
  return stageImageFiles('report-image', sources, 'handler.mjs');
}

