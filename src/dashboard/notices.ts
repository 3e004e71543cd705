import { adviceFor } from './plain-words.ts';

/**
 * An action redirects back with `?done=<key>` or `?failed=<code>`; the page turns them into a
 * sentence from this fixed table, so a crafted link cannot put words on tether's page.
 */
const DONE: Record<string, string> = {
  refreshed: 'The access token was refreshed.',
  disconnected: 'The connection was disconnected and its credentials wiped.',
  replayed: 'The event was queued to be processed again.',
  sync_started: 'The sync run was started (or joined the one running).',
  sync_reset: 'The sync will do a full pass on its next run.',
  sync_updated: 'The sync settings were saved.',
  delivery_retried: 'The delivery was queued again.',
  recovered: 'Failed deliveries since then were queued again.',
  secret_rotated: 'The signing secret was rotated.',
  subscription_updated: 'The subscription was saved.',
};

export type Notice = { kind: 'ok' | 'error'; text: string };

export function noticeFrom(query: Record<string, string | undefined>): Notice | undefined {
  if (query.done && DONE[query.done]) return { kind: 'ok', text: DONE[query.done]! };
  if (query.failed && /^[a-z_]{1,64}$/.test(query.failed)) {
    const advice = adviceFor(query.failed);
    return { kind: 'error', text: `The action failed (${query.failed}).${advice ? ` ${advice}` : ''}` };
  }
  return undefined;
}

export function isDoneKey(key: string): boolean {
  return key in DONE;
}
