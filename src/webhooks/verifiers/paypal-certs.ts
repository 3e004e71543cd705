import { X509Certificate } from 'node:crypto';
import { type Rejection, reject } from './types.ts';

// PayPal's signing certificates, fetched from the PAYPAL-CERT-URL a delivery names. That URL is
// attacker-controlled input, so it is checked against an allow-list before anything is fetched
// (paypal-cert-checks.ts); this module fetches and caches.
//
// Cache, per URL: absent → pending (one fetch, every concurrent caller awaits the same promise)
//   → fetched: kept until ttlMs after it arrived, then absent again (refetched on next use)
//   → failed: dropped at once, so the next delivery tries again (PayPal retries on our 503).
// At most maxEntries URLs are kept (oldest dropped first): every URL on an allowed host is
// accepted, so an attacker could otherwise grow the cache without bound.
// Validity dates, subject and chain are checked at each verification, not here: a cached
// certificate can expire while cached.

export interface PaypalCertStoreOptions {
  /** Per fetch, body included (default 5000 ms). */
  timeoutMs?: number;
  /** Largest certificate file accepted (default 64 KiB; PayPal's chain is a few KiB). */
  maxBytes?: number;
  /** How long a fetched certificate is reused (default 24 h; PayPal changes the URL when it changes the certificate). */
  ttlMs?: number;
  maxEntries?: number;
  /** Cache clock (ms); real time by default. */
  clock?: () => number;
}

/** Leaf first, then the issuers as served. */
export type CertChain = readonly X509Certificate[];

export interface PaypalCertStore {
  /** `url` must already have passed the allow-list. */
  get(url: string): Promise<CertChain | Rejection>;
}

interface Entry {
  promise: Promise<CertChain | Rejection>;
  expiresAt: number;
}

export function makePaypalCertStore(options: PaypalCertStoreOptions = {}): PaypalCertStore {
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxBytes = options.maxBytes ?? 64 * 1024;
  const ttlMs = options.ttlMs ?? 24 * 3600_000;
  const maxEntries = options.maxEntries ?? 100;
  const clock = options.clock ?? Date.now;
  const entries = new Map<string, Entry>();

  return {
    get(url) {
      const cached = entries.get(url);
      if (cached && cached.expiresAt > clock()) return cached.promise;
      entries.delete(url);

      const promise = fetchChain(url, timeoutMs, maxBytes).catch(() =>
        reject('cert_fetch_failed', 'The certificate could not be fetched.'),
      );
      const entry: Entry = { promise, expiresAt: Number.POSITIVE_INFINITY };
      entries.set(url, entry);
      while (entries.size > maxEntries) entries.delete(entries.keys().next().value!);
      entry.promise.then((result) => {
        if (!Array.isArray(result)) {
          if (entries.get(url) === entry) entries.delete(url);
        } else {
          entry.expiresAt = clock() + ttlMs;
        }
      });
      return entry.promise;
    },
  };
}

async function fetchChain(url: string, timeoutMs: number, maxBytes: number): Promise<CertChain | Rejection> {
  const pem = await fetchText(url, timeoutMs, maxBytes);
  if (typeof pem !== 'string') return pem;
  return parseCertChain(pem);
}

async function fetchText(url: string, timeoutMs: number, maxBytes: number): Promise<string | Rejection> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    // Redirects are refused: following one could leave the allow-list.
    const response = await fetch(url, { redirect: 'error', signal, headers: { accept: '*/*' } });
    if (!response.ok) {
      await response.body?.cancel();
      return reject('cert_fetch_failed', `The certificate URL answered HTTP ${response.status}.`);
    }
    if (Number(response.headers.get('content-length') ?? 0) > maxBytes) {
      await response.body?.cancel();
      return reject('cert_fetch_failed', `The certificate is larger than ${maxBytes} bytes.`);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of response.body ?? []) {
      size += chunk.byteLength;
      if (size > maxBytes) {
        await response.body?.cancel().catch(() => {});
        return reject('cert_fetch_failed', `The certificate is larger than ${maxBytes} bytes.`);
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  } catch {
    return reject(
      'cert_fetch_failed',
      signal.aborted
        ? `The certificate did not arrive within ${timeoutMs} ms.`
        : 'The certificate could not be fetched.',
    );
  }
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----/g;

/** Every PEM certificate in a file, in order; a file with none, or an unparsable one, is cert_invalid. */
function parseCertChain(pem: string): CertChain | Rejection {
  const blocks = pem.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) return reject('cert_invalid', 'The certificate URL served no PEM certificate.');
  if (blocks.length > 10)
    return reject('cert_invalid', 'The certificate file holds more than 10 certificates.');
  try {
    return blocks.map((block) => new X509Certificate(block));
  } catch {
    return reject('cert_invalid', 'The certificate file holds an unparsable certificate.');
  }
}
