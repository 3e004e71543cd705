import { SandboxControl } from '../../src/sandbox/index.ts';
import { spawnListening, type TetherProcess } from './process.ts';

// Tether and the sandbox in processes of their own, talking over real HTTP, as `tether sandbox`
// and `TETHER_SANDBOX_URL` are used: the crash test and the syncs benchmark kill and restart
// tether while the provider stays up.

export interface SandboxProcess extends TetherProcess {
  /** e.g. http://127.0.0.1:4000/sandbox */
  sandboxUrl: string;
  control: SandboxControl;
}

/** `tether sandbox` on a free port, its state in `dataDir`. */
export async function spawnSandbox(dataDir: string): Promise<SandboxProcess> {
  const process = await spawnListening(
    ['src/main.ts', 'sandbox'],
    { PORT: '0', TETHER_DATA_DIR: dataDir },
    120_000,
  );
  const sandboxUrl = `${process.url}/sandbox`;
  return { ...process, sandboxUrl, control: new SandboxControl(sandboxUrl) };
}

export { freePort } from './process.ts';

/**
 * The connect flow over HTTP, as a browser runs it; returns the connection id. The links tether
 * hands out are followed on `tetherUrl` (a process started with PORT=0 writes `:0` in them).
 */
export async function connectOverHttp(
  tetherUrl: string,
  apiKey: string,
  control: SandboxControl,
  input: { integration: string; endUserId: string; account?: string },
): Promise<string> {
  const auth = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  const session = await fetch(`${tetherUrl}/v1/connect-sessions`, {
    method: 'POST',
    headers: auth,
    body: JSON.stringify({ integration: input.integration, endUserId: input.endUserId }),
  });
  if (session.status !== 201) throw new Error(`connect session: ${session.status} ${await session.text()}`);
  const onTether = (url: string) => {
    const { pathname, search } = new URL(url);
    return `${tetherUrl}${pathname}${search}`;
  };
  const start = await fetch(onTether(((await session.json()) as { url: string }).url), {
    redirect: 'manual',
  });
  await start.body?.cancel();
  const cookie = start.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const consent = await control.authorize(
    start.headers.get('location')!,
    input.account ? { account: input.account } : {},
  );
  const callback = await fetch(onTether(consent.location), { headers: { cookie }, redirect: 'manual' });
  const body = await callback.text();
  if (callback.status !== 200) throw new Error(`connect callback: ${callback.status} ${body}`);
  const list = await fetch(`${tetherUrl}/v1/connections?endUserId=${encodeURIComponent(input.endUserId)}`, {
    headers: auth,
  });
  const id = ((await list.json()) as { items: { id: string; integration: string }[] }).items.find(
    (c) => c.integration === input.integration,
  )?.id;
  if (!id) throw new Error('the connect flow made no connection');
  return id;
}

/** A Gmail push for `emailAddress`, from the sandbox's Pub/Sub sender to tether's webhook URL. */
export async function sendGmailPush(
  sandboxUrl: string,
  tetherUrl: string,
  emailAddress: string,
  historyId: string,
): Promise<void> {
  const response = await fetch(`${sandboxUrl}/_control/webhooks/gmail-pubsub/send`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      target: `${tetherUrl}/webhooks/sandbox-gmail-pubsub`,
      events: [{ emailAddress, historyId: Number(historyId) }],
    }),
  });
  const report = (await response.json()) as { attempts?: { status: number; body: string }[] };
  if (report.attempts?.[0]?.status !== 200)
    throw new Error(`the push was refused: ${JSON.stringify(report)}`);
}

export interface RecordItem {
  id: string;
  data: Record<string, unknown>;
  lastAction: string;
  deletedAt: string | null;
}

/** Reads the records API from `cursor` to its end, newest change per id into `into`; the cursor to go on from. */
export async function readRecordsInto(
  tetherUrl: string,
  apiKey: string,
  path: string,
  into: Map<string, RecordItem>,
  cursor?: string,
): Promise<string | undefined> {
  for (;;) {
    const url = `${tetherUrl}/v1/${path}?limit=1000${cursor ? `&cursor=${cursor}` : ''}`;
    const response = await fetch(url, { headers: { authorization: `Bearer ${apiKey}` } });
    if (response.status !== 200) throw new Error(`records: ${response.status} ${await response.text()}`);
    const body = (await response.json()) as { items: RecordItem[]; nextCursor?: string; hasMore: boolean };
    for (const item of body.items) into.set(item.id, item);
    cursor = body.nextCursor ?? cursor;
    if (!body.hasMore) return cursor;
  }
}
