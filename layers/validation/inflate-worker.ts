import { Worker } from 'node:worker_threads';

/** Compressed bytes sent to the worker and not yet taken by the inflater: bounds the read-ahead. */
const INPUT_IN_FLIGHT = 1 << 20;
/** Inflated bytes handed back and not yet checked: bounds what waits in memory. */
const OUTPUT_IN_FLIGHT = 4 << 20;

/**
 * The worker's code, as text: evaluated by the worker itself, so the function bundle needs no
 * second file. It inflates what it is sent and hands the output back in chunks of their own
 * memory (transferred, not copied), pausing while too much output waits unchecked.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createGunzip } = require('node:zlib');
const gunzip = createGunzip({ chunkSize: 128 * 1024 });
let unacknowledged = 0;
let paused = false;
// Buffers the main thread has checked and handed back: reused, so memory does not churn.
const spare = [];
gunzip.on('data', (out) => {
  // zlib hands out views of a buffer it reuses: copy into memory of its own before transferring.
  const memory = spare.length > 0 && spare[spare.length - 1].byteLength >= out.length ? spare.pop() : new ArrayBuffer(Math.max(out.length, 128 * 1024));
  const chunk = new Uint8Array(memory, 0, out.length);
  chunk.set(out);
  unacknowledged += chunk.length;
  parentPort.postMessage({ type: 'data', chunk }, [chunk.buffer]);
  if (unacknowledged > ${OUTPUT_IN_FLIGHT} && !paused) {
    paused = true;
    gunzip.pause();
  }
});
gunzip.on('end', () => parentPort.postMessage({ type: 'end' }));
gunzip.on('error', (error) => parentPort.postMessage({ type: 'error', code: error.code, message: error.message }));
parentPort.on('message', (message) => {
  if (message.type === 'data') {
    const length = message.chunk.length;
    gunzip.write(message.chunk, () => parentPort.postMessage({ type: 'taken', length }));
  } else if (message.type === 'end') {
    gunzip.end();
  } else if (message.type === 'ack') {
    unacknowledged -= message.length;
    if (spare.length < 64) spare.push(message.memory);
    if (paused && unacknowledged <= ${OUTPUT_IN_FLIGHT / 2}) {
      paused = false;
      gunzip.resume();
    }
  }
});
`;

/** An error of the inflater, with zlib's code (`Z_BUF_ERROR` when the data ends too soon, `Z_DATA_ERROR`, …). */
export class InflateError extends Error {
  override name = 'InflateError';
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/**
 * Inflates gzip `source` on a worker thread and calls `take` with each inflated chunk, in order,
 * on this thread: unpacking (~300 MB/s on one core) then overlaps with checking instead of adding
 * to it. Memory stays bounded both ways (1 MB of compressed read-ahead, 4 MB of inflated output
 * waiting). An exception thrown by `take` or by reading `source` stops the worker and is rethrown;
 * a damaged stream rejects with an {@link InflateError} carrying zlib's code.
 */
export async function inflateOffThread(source: AsyncIterable<Uint8Array>, take: (chunk: Uint8Array) => void): Promise<void> {
  const worker = new Worker(WORKER_SOURCE, { eval: true });
  const waiting: Uint8Array[] = [];
  let inputInFlight = 0;
  let ended = false;
  let failure: unknown;
  // The feeder and the consumer both wait for the worker's next message.
  let waiters: (() => void)[] = [];
  const signal = (): void => {
    const woken = waiters;
    waiters = [];
    for (const resolve of woken) resolve();
  };
  const nextEvent = (): Promise<void> => new Promise((resolve) => waiters.push(resolve));
  worker.on('message', (message: { type: string; chunk?: Uint8Array; length?: number; code?: string; message?: string }) => {
    if (message.type === 'data') waiting.push(message.chunk!);
    else if (message.type === 'taken') inputInFlight -= message.length!;
    else if (message.type === 'end') ended = true;
    else if (message.type === 'error') failure ??= new InflateError(message.message ?? 'inflating failed', message.code);
    signal();
  });
  worker.on('error', (error) => {
    failure ??= error;
    signal();
  });

  let fed = false;
  const feed = async (): Promise<void> => {
    try {
      for await (const chunk of source) {
        while (inputInFlight > INPUT_IN_FLIGHT && failure === undefined) await nextEvent();
        if (failure !== undefined) return;
        // A copy of its own, so it can be transferred: the caller's chunk may share its memory.
        const copy = new Uint8Array(chunk);
        inputInFlight += copy.length;
        worker.postMessage({ type: 'data', chunk: copy }, [copy.buffer]);
      }
      worker.postMessage({ type: 'end' });
    } catch (error) {
      failure ??= error;
    } finally {
      fed = true;
      signal();
    }
  };

  const feeding = feed();
  try {
    for (;;) {
      // A damaged stream still hands over what came before the damage, as inflating here would.
      while (waiting.length > 0 && (failure === undefined || failure instanceof InflateError)) {
        const chunk = waiting.shift()!;
        take(chunk);
        // Readers keep nothing of a chunk past the call: its memory goes back to the worker for the next one.
        worker.postMessage({ type: 'ack', length: chunk.length, memory: chunk.buffer }, [chunk.buffer as ArrayBuffer]);
      }
      if (failure !== undefined) throw failure;
      if (ended && fed) return;
      await nextEvent();
    }
  } finally {
    failure ??= new Error('stopped');
    signal();
    await feeding;
    await worker.terminate();
  }
}
