import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { standInValue } from '../infra/stand-in.ts';
import { median, type Benchmark, type Figure } from './harness.ts';
import { repoRoot } from './noop-runtime.ts';

/**
 * What the stack costs before it does any work (the Operations issue): `cdk synth` with every
 * function bundled, beside loading aws-cdk-lib alone; and per zip function, its bundle's size and
 * its cold init — a fresh Node process importing the bundle with the function's environment, as
 * Lambda's init phase does — beside importing an empty module the same way. The report function is
 * a container image (its kernel needs Docker to build): it is not measured here.
 */

const run = promisify(execFile);

type FunctionResource = { Type: string; Metadata?: Record<string, string>; Properties: { Environment?: { Variables: Record<string, unknown> } } };

/** Milliseconds a fresh Node process takes to import `module` from `dir`, with `env`. */
async function importMs(dir: string, module: string, env: Record<string, string>): Promise<number> {
  const script = `const t = performance.now(); await import(${JSON.stringify(module)}); process.stdout.write(String(performance.now() - t)); process.exit(0);`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, env, timeout: 60_000 });
  return Number(stdout);
}

async function timed(command: string, args: readonly string[], cwd: string): Promise<number> {
  const start = performance.now();
  await run(command, [...args], { cwd, env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1', CDK_DISABLE_CLI_TELEMETRY: '1' }, maxBuffer: 64 * 1024 * 1024, timeout: 900_000 });
  return performance.now() - start;
}

export const functionsBenchmark: Benchmark = {
  name: 'functions',
  description: 'cdk synth with bundling beside loading aws-cdk-lib alone; each function bundle’s size and cold init beside importing an empty module',
  async run({ quick }) {
    // Inside the project, so the bundles find the AWS SDK there as they find Lambda's own (it is external to them).
    mkdirSync(join(repoRoot, 'bench', 'data'), { recursive: true });
    const out = mkdtempSync(join(repoRoot, 'bench', 'data', 'synth-'));
    try {
      const synthMs = await timed(join(repoRoot, 'node_modules', '.bin', 'cdk'), ['synth', '--quiet', '--no-notices', '--output', out], repoRoot);
      const cdkLibMs = await timed(process.execPath, ['-e', "require('aws-cdk-lib')"], repoRoot);
      const figures: Figure[] = [
        { metric: 'cdk synth (every function bundled, cdk-nag)', value: synthMs, unit: 'ms', better: 'lower', baseline: { label: 'loading aws-cdk-lib alone', value: cdkLibMs } },
      ];

      const rounds = quick ? 1 : 3;
      const emptyMs: number[] = [];
      for (let i = 0; i < rounds; i++) emptyMs.push(await importMs(out, 'data:text/javascript,', { PATH: process.env.PATH ?? '' }));
      const template = JSON.parse(readFileSync(join(out, 'Symbiont-dev.template.json'), 'utf8')) as { Resources: Record<string, FunctionResource> };
      for (const [id, resource] of Object.entries(template.Resources)) {
        const assetPath = resource.Metadata?.['aws:asset:path'];
        if (resource.Type !== 'AWS::Lambda::Function' || !assetPath || id.startsWith('BucketNotificationsHandler') || id.startsWith('CustomVpc')) continue;
        const dir = join(out, assetPath);
        const name = id.replace(/[0-9A-F]{8}$/, '');
        const env: Record<string, string> = { PATH: process.env.PATH ?? '', AWS_REGION: 'eu-west-1', POWERTOOLS_LOG_LEVEL: 'ERROR', POWERTOOLS_METRICS_DISABLED: 'true' };
        for (const [variable, value] of Object.entries(resource.Properties.Environment?.Variables ?? {})) env[variable] = standInValue(value);
        env.SYMBIONT_CONFIG = join(dir, 'symbiont.config.json');
        const initMs: number[] = [];
        for (let i = 0; i < rounds; i++) initMs.push(await importMs(dir, './index.mjs', env));
        figures.push({ metric: `${name}: bundle size`, value: statSync(join(dir, 'index.mjs')).size / 1024, unit: 'KiB', better: 'lower' });
        figures.push({ metric: `${name}: cold init (import in a fresh process)`, value: median(initMs), unit: 'ms', better: 'lower', baseline: { label: 'an empty module', value: median(emptyMs) } });
      }
      return figures;
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  },
};
