import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { type SandboxServer, startSandboxServer } from './index.ts';
import { readSnapshot } from './persistence.ts';
import { makeSandboxState } from './state.ts';
import type { SandboxWebhookSecrets } from './webhooks/index.ts';

/**
 * The sandbox alone (`tether sandbox`): the same simulators tether mounts, at
 * http://HOST:PORT/sandbox, so tether processes can be stopped, killed and restarted while the
 * providers stay up (TETHER_SANDBOX_URL points them here). Its accounts derive from the seed
 * 'tether', like the mounted sandbox's. It keeps its state in `<dataDir>/sandbox-alone.json`,
 * with the webhook senders' default secrets, generated on the first start: tether learns them from
 * GET /sandbox/_control/webhooks/config.
 */

export const STANDALONE_STATE_FILE = 'sandbox-alone.json';

export async function startStandaloneSandbox(options: {
  host: string;
  port: number;
  dataDir: string;
}): Promise<SandboxServer> {
  const path = join(options.dataDir, STANDALONE_STATE_FILE);
  const secrets = readSnapshot(path)?.webhookSecrets ?? makeSandboxWebhookSecrets();
  return startSandboxServer({
    host: options.host,
    port: options.port,
    state: makeSandboxState({ seed: 'tether' }),
    senders: { secrets },
    stateFile: { path, saveSecrets: true },
  });
}

export function makeSandboxWebhookSecrets(): SandboxWebhookSecrets {
  return {
    stripe: `whsec_${randomBytes(24).toString('base64url')}`,
    docusignConnect: randomBytes(32).toString('base64'),
    paypalWebhookId: `WH-${randomBytes(9).toString('hex').toUpperCase()}`,
  };
}
