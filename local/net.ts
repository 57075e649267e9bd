import type { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';

/** What {@link listen} needs of a server: node:http's and ssh2's both have it. */
export interface ListeningServer extends Pick<EventEmitter, 'once' | 'off'> {
  listen(port: number, host: string): unknown;
  address(): AddressInfo | string | null;
}
import { LocalRuntimeError, PortInUseError } from './errors.ts';
import { portRemedy, type LocalService } from './settings.ts';

/** Every local server binds the loopback interface only: nothing here checks credentials for real. */
export const LOCAL_HOST = '127.0.0.1';

/**
 * Starts `server` on `port` (0 = a free port) and resolves the port it got. A port that is taken
 * becomes a {@link PortInUseError} naming the port and the knobs that change it, instead of the
 * unhandled `'error'` event that would otherwise end the process.
 */
export function listen(server: ListeningServer, port: number, service: LocalService): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (error.code === 'EADDRINUSE') reject(new PortInUseError(service, port, portRemedy(service), { cause: error }));
      else if (error.code === 'EACCES') reject(new LocalRuntimeError(`port ${port} (${service}) needs privileges: ${portRemedy(service)}`, { cause: error }));
      else reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, LOCAL_HOST);
  });
}

/**
 * Stops accepting connections and waits for the server to close. Idle keep-alive sockets (the SDK
 * keeps them) are closed at once; sockets still busy get `graceMs` to finish their request.
 */
export function close(server: Server, graceMs = 2_000): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close((error) => {
      clearTimeout(force);
      if (error) reject(error);
      else resolve();
    });
    server.closeIdleConnections();
  });
}

/** `http://127.0.0.1:<port>` */
export function localUrl(port: number): string {
  return `http://${LOCAL_HOST}:${port}`;
}
