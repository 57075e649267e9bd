// The stage runner's helper process: it starts stage commands on behalf of the local runtime.
// Starting a process forks its parent, and forking the runtime (hundreds of MB: emulators,
// handlers) costs tens of milliseconds of the event loop per stage; forking this small process
// costs about one. Plain JavaScript, no dependencies: it starts in a few milliseconds.
// Protocol (IPC, JSON): { id, command, args, cwd, env, stdout, stderr, timeoutMs } in,
// { id, exitCode, signal, timedOut, durationMs, startedAt, finishedAt } out.
import { spawn } from 'node:child_process';
import { closeSync, openSync, writeFileSync } from 'node:fs';

/** Stage processes running now, to stop with the runtime. */
const running = new Set();

process.on('message', (job) => {
  const startedAt = new Date();
  const started = performance.now();
  let stdout;
  let stderr;
  try {
    stdout = openSync(job.stdout, 'w');
    stderr = openSync(job.stderr, 'w');
  } catch (error) {
    // The stage's folder is gone (the runtime stopped and its data went with it): nothing to run
    // the stage in. It ends as failed, said on this process's stderr since it has no file of its own.
    if (stdout !== undefined) closeSync(stdout);
    process.stderr.write(`symbiont: stage not started, its log files cannot be written: ${error.message}\n`);
    const at = new Date().toISOString();
    process.send({ id: job.id, exitCode: null, signal: null, timedOut: false, durationMs: 0, startedAt: at, finishedAt: at });
    return;
  }
  let timedOut = false;
  let settled = false;
  let timer;
  const finish = (exitCode, signal) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    closeSync(stdout);
    closeSync(stderr);
    process.send({ id: job.id, exitCode, signal, timedOut, durationMs: performance.now() - started, startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString() });
  };
  let child;
  try {
    // Its own process group, so a timeout stops what it started too.
    child = spawn(job.command, job.args, { cwd: job.cwd, env: job.env, stdio: ['ignore', stdout, stderr], detached: true });
  } catch (error) {
    writeFileSync(job.stderr, `symbiont: could not start ${JSON.stringify(job.command)}: ${error.message}\n`, { flag: 'a' });
    finish(null, null);
    return;
  }
  timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  }, job.timeoutMs);
  child.on('error', (error) => {
    writeFileSync(job.stderr, `symbiont: could not start ${JSON.stringify(job.command)}: ${error.message}\n`, { flag: 'a' });
    finish(null, null);
  });
  running.add(child);
  child.on('close', (code, signal) => {
    running.delete(child);
    finish(code, signal);
  });
});

// The runtime went away: so does this, and so do the stages it started (each in its own group).
process.on('disconnect', () => {
  for (const child of running) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  process.exit(0);
});
