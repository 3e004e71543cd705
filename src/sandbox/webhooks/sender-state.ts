import { makePaypalCertAuthority, type PaypalCertAuthority } from './paypal-certs.ts';
import { makeTransmissionLog, type TransmissionLog } from './paypal-verify.ts';
import { makePushSigningKeys, type PushSigningKeys } from './pubsub-keys.ts';

// The key material the webhook senders hold for the life of the sandbox: PayPal's CA and
// certificates, Google's push-token keys, and the log of signed PayPal bodies the online
// verify endpoint reads. Generating it takes a few RSA keys (well under a second).

export interface WebhookSenderState {
  paypalCerts: PaypalCertAuthority;
  paypalLog: TransmissionLog;
  pushKeys: PushSigningKeys;
}

export async function makeWebhookSenderState(now: Date = new Date()): Promise<WebhookSenderState> {
  const [paypalCerts, pushKeys] = await Promise.all([makePaypalCertAuthority(now), makePushSigningKeys()]);
  return { paypalCerts, paypalLog: makeTransmissionLog(), pushKeys };
}
