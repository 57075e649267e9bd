import { fork } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../integration/local-helpers.ts';

/** The stage runner's helper process (local/stage-spawner.mjs), spoken to over IPC as the runner does. */
describe('the stage spawner', () => {
  it('answers a stage it cannot write logs for as not started, and keeps serving', async () => {
    // Prepare
    const spawner = fork(join(repoRoot, 'local', 'stage-spawner.mjs'), [], { execArgv: [], stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json' });
    let stderr = '';
    spawner.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const answers: { id: number; exitCode: number | null }[] = [];
    const answered = (count: number) => new Promise<void>((resolve) => spawner.on('message', (m: { id: number; exitCode: number | null }) => (answers.push(m), answers.length === count && resolve())));
    const both = answered(2);

    // Act: the first stage's folder is gone (the runtime stopped and removed its data); the second runs
    const job = { command: 'true', args: [], cwd: repoRoot, env: { PATH: process.env.PATH }, timeoutMs: 10_000 };
    spawner.send({ ...job, id: 1, stdout: '/nonexistent/symbiont/stdout.txt', stderr: '/nonexistent/symbiont/stderr.txt' });
    spawner.send({ ...job, id: 2, stdout: '/dev/null', stderr: '/dev/null' });
    await both;
    spawner.disconnect();

    // Assess
    expect(answers.find((a) => a.id === 1)).toMatchObject({ exitCode: null });
    expect(answers.find((a) => a.id === 2)).toMatchObject({ exitCode: 0 });
    expect(stderr).toContain('stage not started, its log files cannot be written: ENOENT');
  });
});
