import type { Sealer } from '../crypto/seal.ts';
import { sealContext } from '../db/sealed-columns.ts';
import { makeSigningSecret } from './signature.ts';

/**
 * A subscription's signing secrets, sealed at rest as one value: the current one, and after a
 * rotation the previous one with the time it stops signing (24 hours on), so a consumer can move
 * to the new secret without dropping a delivery.
 */
export interface SubscriptionSecrets {
  current: string;
  previous?: string;
  previousUntil?: string;
}

export const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;

export function sealSecrets(sealer: Sealer, id: string, secrets: SubscriptionSecrets): string {
  return sealer.seal(JSON.stringify(secrets), sealContext.eventSubscriptionSecrets(id));
}

export function openSecrets(sealer: Sealer, id: string, sealed: string): SubscriptionSecrets {
  return JSON.parse(sealer.open(sealed, sealContext.eventSubscriptionSecrets(id))) as SubscriptionSecrets;
}

export function freshSecrets(): SubscriptionSecrets {
  return { current: makeSigningSecret() };
}

/** A new current secret; the old one keeps signing until `now` + 24 hours. */
export function rotated(secrets: SubscriptionSecrets, now: Date): SubscriptionSecrets {
  return {
    current: makeSigningSecret(),
    previous: secrets.current,
    previousUntil: new Date(now.getTime() + ROTATION_OVERLAP_MS).toISOString(),
  };
}

/** The secrets that sign a delivery made at `now`, newest first. */
export function signingSecrets(secrets: SubscriptionSecrets, now: Date): string[] {
  const previousLive =
    secrets.previous !== undefined &&
    secrets.previousUntil !== undefined &&
    Date.parse(secrets.previousUntil) > now.getTime();
  return previousLive ? [secrets.current, secrets.previous!] : [secrets.current];
}
