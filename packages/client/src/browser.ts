/**
 * The browser side of connecting an account: open a connect session's link in a popup and
 * resolve when the person is done. Create the session on your server (it needs the API key)
 * with a `redirectUrl` on your own site's origin; tether sends the popup back there with
 * `?status=connected&connectionId=…` or `?status=error&code=…`, which this helper reads (the
 * popup is same-origin again by then) before closing it.
 *
 *   const session = await fetch('/api/connect', { method: 'POST' }).then((r) => r.json());
 *   const outcome = await connectInPopup(session.url);
 *   if (outcome.status === 'connected') showConnected(outcome.connectionId);
 */
export type ConnectOutcome =
  | { status: 'connected'; connectionId: string }
  | { status: 'error'; code: string }
  | { status: 'closed' }
  | { status: 'timeout' };

export interface ConnectInPopupOptions {
  /** The origin the session's redirectUrl points to (default: this page's). */
  returnOrigin?: string;
  /** Give up after this long (default 10 minutes: a connect session's lifetime). */
  timeoutMs?: number;
  /** window.open's features (default: a 500×700 popup). */
  features?: string;
}

/** The few browser globals the helper uses (the package compiles without the DOM library). */
interface PopupWindow {
  closed: boolean;
  close(): void;
  location: { href: string };
}
interface BrowserGlobals {
  location: { origin: string };
  open(url: string, target: string, features: string): PopupWindow | null;
  setInterval(handler: () => void, ms: number): number;
  clearInterval(id: number): void;
}

export function connectInPopup(
  connectUrl: string,
  options: ConnectInPopupOptions = {},
): Promise<ConnectOutcome> {
  const w = globalThis as unknown as BrowserGlobals;
  const returnOrigin = options.returnOrigin ?? w.location.origin;
  const popup = w.open(connectUrl, 'tether-connect', options.features ?? 'popup,width=500,height=700');
  if (!popup)
    return Promise.reject(new Error('the popup was blocked: call connectInPopup from a click handler'));
  const deadline = Date.now() + (options.timeoutMs ?? 10 * 60_000);
  return new Promise((resolve) => {
    const timer = w.setInterval(() => {
      const finish = (outcome: ConnectOutcome) => {
        w.clearInterval(timer);
        if (!popup.closed) popup.close();
        resolve(outcome);
      };
      if (popup.closed) return finish({ status: 'closed' });
      if (Date.now() > deadline) return finish({ status: 'timeout' });
      let href: string;
      try {
        href = popup.location.href; // throws while the popup shows tether or the provider
      } catch {
        return;
      }
      const url = new URL(href);
      if (url.origin !== returnOrigin) return;
      const status = url.searchParams.get('status');
      const connectionId = url.searchParams.get('connectionId');
      if (status === 'connected' && connectionId) return finish({ status: 'connected', connectionId });
      if (status === 'error')
        return finish({ status: 'error', code: url.searchParams.get('code') ?? 'unknown' });
    }, 200);
  });
}
