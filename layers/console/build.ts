import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { consoleFileNames, type ConsoleFileName, type ConsoleFiles } from './assets.ts';

/**
 * Builds the web console (console/*.tsx, Preact) into one script and one stylesheet with esbuild,
 * minified, nothing left to fetch at run time. The local runtime builds it in memory on first use;
 * `npm run build:console` and the API function's bundling write the two files to a folder.
 */

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The console's entry. */
export const consoleEntry = join(projectRoot, 'console', 'main.tsx');

/** The console's files, built in memory. */
export async function buildConsole(): Promise<ConsoleFiles> {
  const result = await esbuild.build({
    entryPoints: { app: consoleEntry },
    bundle: true,
    write: false,
    outdir: 'out',
    format: 'esm',
    target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
    platform: 'browser',
    minify: true,
    legalComments: 'none',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: join(projectRoot, 'console', 'tsconfig.json'),
    logLevel: 'silent',
  });
  const files: Partial<Record<ConsoleFileName, string>> = {};
  for (const output of result.outputFiles) {
    const name = basename(output.path) as ConsoleFileName;
    if (!consoleFileNames.includes(name)) throw new Error(`the console build wrote an unexpected file ${output.path}`);
    files[name] = output.text;
  }
  for (const name of consoleFileNames) if (files[name] === undefined) throw new Error(`the console build wrote no ${name}`);
  return files as ConsoleFiles;
}

/** Builds the console and writes its files to `outdir`; returns their sha256 by name. */
export async function writeConsole(outdir: string): Promise<Record<ConsoleFileName, string>> {
  const files = await buildConsole();
  mkdirSync(outdir, { recursive: true });
  const hashes = {} as Record<ConsoleFileName, string>;
  for (const name of consoleFileNames) {
    writeFileSync(join(outdir, name), files[name]);
    hashes[name] = createHash('sha256').update(files[name]).digest('hex');
  }
  return hashes;
}

// `tsx layers/console/build.ts <outdir>`: what npm run build:console and the API function's bundling run.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outdir = resolve(process.argv[2] ?? join(projectRoot, 'dist', 'console'));
  writeConsole(outdir).then(
    (hashes) => console.log(`console built into ${outdir}: ${Object.keys(hashes).join(', ')}`),
    (error: unknown) => {
      console.error(`the console did not build: ${(error as Error).message}`);
      process.exitCode = 1;
    },
  );
}
