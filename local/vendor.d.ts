/**
 * The small parts of s3rver 3 and dynalite 4 the local runtime uses; neither package ships types.
 */

declare module 's3rver' {
  import type { EventEmitter } from 'node:events';
  import type { IncomingMessage, ServerResponse } from 'node:http';

  interface S3rverOptions {
    directory?: string;
    silent?: boolean;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: { name: string; configs?: (string | Buffer)[] }[];
  }

  /** The in-process notification s3rver emits; not S3's shape (see local/s3-bridge.ts). */
  export interface S3rverEvent {
    Records: {
      eventName: string;
      s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string } };
    }[];
  }

  /** Koa's middleware signature, enough for the one hook the bridge adds in front. */
  export type KoaMiddleware = (ctx: { method: string; query: Record<string, unknown>; status: number; ip: string }, next: () => Promise<void>) => Promise<void>;

  class S3rver extends EventEmitter {
    constructor(options?: S3rverOptions);
    /** Koa's middleware stack; composed when `callback()` is called. */
    middleware: KoaMiddleware[];
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    on(event: 'event', listener: (event: S3rverEvent) => void): this;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }
  export default S3rver;
}

declare module 'dynalite' {
  import type { Server } from 'node:http';

  interface DynaliteOptions {
    /** LevelDB directory; in memory when absent. */
    path?: string;
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
  }
  function dynalite(options?: DynaliteOptions): Server;
  export default dynalite;
}
