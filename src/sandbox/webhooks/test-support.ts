import { setTimeout as sleep } from 'node:timers/promises';
import formbody from '@fastify/formbody';
import Fastify, { type FastifyInstance } from 'fastify';
import { type WebhookSenderRoutesOptions, webhookSenderRoutes } from './routes.ts';

// Test-only helpers: a webhook receiver and a sandbox server, both real HTTP on 127.0.0.1,
// port 0. Not a test file itself (vitest collects *.test.ts only).

export interface Received {
  headers: Record<string, string>;
  /** The raw body exactly as it arrived. */
  body: string;
  /** How many requests were in flight, this one included, when it arrived. */
  inFlight: number;
}

export interface Answer {
  status?: number;
  body?: string;
  delayMs?: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  maxInFlight(): number;
  close(): Promise<void>;
}

/** `answer(n)` decides the response to the n-th request (0-based); default 200 `ok`. */
export async function startReceiver(
  answer: (n: number, req: Received) => Answer = () => ({}),
): Promise<Receiver> {
  const app = Fastify();
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  const received: Received[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  app.post('/hook', async (request, reply) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const entry: Received = {
      headers: request.headers as Record<string, string>,
      body: String(request.body ?? ''),
      inFlight,
    };
    const n = received.push(entry) - 1;
    try {
      const { status = 200, body = 'ok', delayMs = 0 } = answer(n, entry);
      if (delayMs) await sleep(delayMs);
      return reply.code(status).send(body);
    } finally {
      inFlight--;
    }
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url: `${address}/hook`, received, maxInFlight: () => maxInFlight, close: () => app.close() };
}

export interface SandboxServer {
  app: FastifyInstance;
  /** Where the sandbox is mounted, e.g. http://127.0.0.1:PORT/sandbox */
  sandboxUrl: string;
  close(): Promise<void>;
}

export async function startSandbox(options: WebhookSenderRoutesOptions = {}): Promise<SandboxServer> {
  const app = Fastify();
  await app.register(formbody); // as tether's app does
  await app.register(webhookSenderRoutes, { ...options, prefix: '/sandbox' });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, sandboxUrl: `${address}/sandbox`, close: () => app.close() };
}
