import { z } from 'zod';
import type { Sealer } from '../crypto/seal.ts';
import type { Db } from '../db/client.ts';
import type { WebhookSenderFacts } from '../sandbox/webhooks/index.ts';
import { seedSandboxIntegrations } from './seed-sandbox.ts';
import { seedSandboxWebhookSources } from './seed-sandbox-webhooks.ts';

/**
 * TETHER_SANDBOX_URL: the sandbox integrations seeded against a sandbox running alone
 * (`tether sandbox`), which tether does not mount. Its control API tells what the webhook
 * integrations must trust (GET /_control/webhooks/config: PayPal's CA, Google's JWKS, and the
 * signing secrets the sandbox holds). An unreachable sandbox stops the start with a clear error:
 * the integrations would otherwise point at nothing.
 */

const Facts = z.looseObject({
  paypal: z.looseObject({
    certUrl: z.string(),
    certHost: z.string(),
    commonNameSuffix: z.string(),
    caPem: z.string(),
    tokenUrl: z.string(),
    verifyUrl: z.string(),
  }),
  gmailPubsub: z.looseObject({
    jwksUrl: z.string(),
    issuer: z.string(),
    serviceAccount: z.string(),
    kid: z.string(),
  }),
  secrets: z
    .object({ stripe: z.string(), docusignConnect: z.string(), paypalWebhookId: z.string() })
    .optional(),
});

export async function seedRemoteSandbox(
  db: Db,
  sealer: Sealer,
  sandboxUrl: string,
  options: { timeoutMs?: number } = {},
): Promise<WebhookSenderFacts> {
  const facts = await readSenderFacts(sandboxUrl, options.timeoutMs ?? 10_000);
  await seedSandboxIntegrations(db, sealer, sandboxUrl);
  await seedSandboxWebhookSources(db, sealer, facts);
  return facts;
}

async function readSenderFacts(sandboxUrl: string, timeoutMs: number): Promise<WebhookSenderFacts> {
  const where = `${sandboxUrl}/_control/webhooks/config`;
  let response: Response;
  try {
    response = await fetch(where, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new Error(
      `could not reach the sandbox at TETHER_SANDBOX_URL (GET ${where}: ${(error as Error).message}); start it with "tether sandbox"`,
    );
  }
  const parsed = Facts.safeParse(await response.json().catch(() => undefined));
  if (!response.ok || !parsed.success) {
    throw new Error(
      `TETHER_SANDBOX_URL does not point at a tether sandbox: GET ${where} answered ${response.status}` +
        (parsed.success ? '' : ' without its webhook config'),
    );
  }
  if (!parsed.data.secrets) {
    throw new Error(
      `the sandbox at TETHER_SANDBOX_URL tells no webhook secrets (GET ${where}); is it "tether sandbox"?`,
    );
  }
  return parsed.data as WebhookSenderFacts;
}
