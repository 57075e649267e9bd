import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthesize, type Synthesized } from './helpers.ts';

/** The stage base image: staged at synth as an image asset whose context holds the bundled wrapper. */

const exec = promisify(execFile);
let synthesized: Synthesized;
let context: string;

beforeAll(() => {
  synthesized = synthesize();
  const assembly = synthesized.app.synth();
  context = join(assembly.directory, `asset.${synthesized.stack.evaluation.stageBaseImage.assetHash}`);
});

describe('the stage base image', () => {
  it('is staged with a Dockerfile whose entrypoint is the wrapper', () => {
    // Act
    const dockerfile = readFileSync(join(context, 'Dockerfile'), 'utf8');

    // Assess
    expect(dockerfile).toMatch(/^FROM \S*node:22/m);
    expect(dockerfile).toContain('ENTRYPOINT ["node", "/opt/symbiont/wrapper.mjs"]');
  });

  it('stages a bundled wrapper that runs with plain node and names what is missing', async () => {
    // Act
    const failure = await exec(process.execPath, [join(context, 'wrapper.mjs'), '--', 'true'], { env: { PATH: process.env.PATH } }).catch((error: { code: number; stderr: string }) => error);

    // Assess
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stderr: string }).stderr).toContain('SYMBIONT_OUTPUT_S3 is not set');
  });

  it('carries no X-Ray tracer: in ECS, where AWS_EXECUTION_ENV is set, the tracer would turn itself on with no daemon to send to', () => {
    // Act
    const wrapper = readFileSync(join(context, 'wrapper.mjs'), 'utf8');

    // Assess
    expect(wrapper).not.toMatch(/aws-xray-sdk|@aws-lambda-powertools\/tracer/);
  });
});

describe('the stack outputs', () => {
  it('name the stage base image for repositories’ CI to build FROM', () => {
    // Act
    const outputs = synthesized.template.findOutputs('StageBaseImageUri');

    // Assess
    expect(JSON.stringify(outputs.StageBaseImageUri?.Value)).toContain(synthesized.stack.evaluation.stageBaseImage.assetHash);
  });
});
