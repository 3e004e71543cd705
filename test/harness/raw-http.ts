import { connect, type Socket } from 'node:net';

/**
 * A client that speaks HTTP/1.1 by hand over a socket, for what inject()
 * cannot do: slow or malformed requests, idle and surplus sockets.
 */
export interface RawClient {
  socket: Socket;
  /** Resolves with everything the server sent once the socket is closed (by either side). */
  closed: Promise<string>;
  /** Writes `chunk` every `everyMs` until the socket closes. */
  trickle(chunk: string, everyMs: number): void;
  /** Resolves once the server has sent a complete response head (and what came with it). */
  firstResponse(): Promise<string>;
}

export async function connectRaw(baseUrl: string): Promise<RawClient> {
  const { hostname, port } = new URL(baseUrl);
  const socket = connect(Number(port), hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let received = '';
  const waiting: (() => void)[] = [];
  socket.on('data', (data) => {
    received += data.toString('latin1');
    for (const wake of waiting.splice(0)) wake();
  });
  // The server may reset a socket it refuses; that is an answer here, not a failure.
  socket.on('error', () => {});
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(received)));
  const timers: NodeJS.Timeout[] = [];
  void closed.then(() => {
    for (const timer of timers) clearInterval(timer);
    for (const wake of waiting.splice(0)) wake();
  });
  return {
    socket,
    closed,
    trickle(chunk, everyMs) {
      timers.push(setInterval(() => socket.writable && socket.write(chunk), everyMs));
    },
    async firstResponse() {
      while (!/\r\n\r\n/.test(received) && !socket.destroyed) {
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
      return received;
    },
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The first response in what a server sent (status, lower-cased headers, the rest as body). */
export function parseRawResponse(text: string): RawResponse {
  const end = text.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`no complete response in ${JSON.stringify(text.slice(0, 200))}`);
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: text.slice(end + 4) };
}
