import { SandboxControl, type SandboxServer, startSandboxServer } from '../../sandbox/index.ts';
import {
  makeWebhookSandboxClient,
  type SendBody,
  type WebhookSandboxClient,
  type WebhookSandboxConfig,
  type WebhookSource,
} from '../../sandbox/webhooks/index.ts';
import { type Receiver, startReceiver } from '../../sandbox/webhooks/test-support.ts';
import type { WebhookRequest } from './types.ts';

// Test-only: the provider sandbox on 127.0.0.1 plus a receiver, so verifier tests check real
// deliveries signed by the sandbox's senders and received over HTTP (not a test file itself).

export interface WebhookFixture {
  sandbox: SandboxServer;
  control: SandboxControl;
  senders: WebhookSandboxClient;
  config: WebhookSandboxConfig;
  receiver: Receiver;
  /** Has the sandbox send, and answers each delivery as the receiver got it. */
  capture<S extends WebhookSource>(source: S, body: Omit<SendBody<S>, 'target'>): Promise<WebhookRequest[]>;
  close(): Promise<void>;
}

export async function startWebhookFixture(): Promise<WebhookFixture> {
  const sandbox = await startSandboxServer();
  const receiver = await startReceiver();
  const senders = makeWebhookSandboxClient(sandbox.url);
  const config = await senders.config();
  return {
    sandbox,
    control: new SandboxControl(sandbox.url),
    senders,
    config,
    receiver,
    async capture(source, body) {
      const before = receiver.received.length;
      const report = await senders.send(source, { ...body, target: receiver.url } as SendBody<typeof source>);
      if (report.delivered < 1) throw new Error(`The sandbox delivered nothing: ${JSON.stringify(report)}`);
      return receiver.received.slice(before).map((got) => ({
        rawBody: Buffer.from(got.body, 'utf8'),
        headers: got.headers,
        url: receiver.url,
      }));
    },
    async close() {
      await receiver.close();
      await sandbox.close();
    },
  };
}

/** The same delivery with its body or headers changed. */
export function tamper(
  request: WebhookRequest,
  change: { body?: string; headers?: Record<string, string | undefined> },
): WebhookRequest {
  return {
    ...request,
    rawBody: change.body === undefined ? request.rawBody : Buffer.from(change.body, 'utf8'),
    headers: { ...request.headers, ...change.headers },
  };
}
