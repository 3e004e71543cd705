import { expect } from 'vitest';
import {
  SandboxControl,
  type SandboxProvider,
  type SandboxServer,
  sandboxClientCredentials,
  sandboxEndpoints,
  startSandboxServer,
} from '../../src/sandbox/index.ts';
import type { TestTether } from './tether.ts';

/** A standalone provider sandbox and its control client. */
export async function startSandbox(): Promise<{
  server: SandboxServer;
  control: SandboxControl;
  close: () => Promise<void>;
}> {
  const server = await startSandboxServer();
  return { server, control: new SandboxControl(server.url), close: () => server.close() };
}

/** POST /v1/integrations for a provider, pointed at the sandbox. */
export async function createSandboxIntegration(
  t: TestTether,
  sandboxUrl: string,
  input: {
    key: string;
    provider: string;
    sandboxProvider?: SandboxProvider;
    options?: Record<string, unknown>;
    scopes?: string[];
  },
): Promise<void> {
  const sandboxProvider = input.sandboxProvider ?? (input.provider as SandboxProvider);
  const { clientId, clientSecret } = sandboxClientCredentials(sandboxProvider);
  const endpoints = Object.fromEntries(
    Object.entries(sandboxEndpoints(sandboxUrl)[sandboxProvider]).filter(([, url]) => url !== undefined),
  );
  const res = await t.app.inject({
    method: 'POST',
    url: '/v1/integrations',
    headers: t.auth,
    payload: {
      key: input.key,
      provider: input.provider,
      clientId,
      clientSecret,
      endpoints,
      ...(input.scopes ? { scopes: input.scopes } : {}),
      ...input.options,
    },
  });
  expect(res.statusCode, res.body).toBe(201);
}

/**
 * The Cookie header a browser sends back after a response's Set-Cookie (name=value pairs, the
 * attributes dropped): /connect/:token binds the flow to the browser with one.
 */
export function cookiesFrom(response: { headers: Record<string, unknown> }): string {
  const setCookie = response.headers['set-cookie'];
  const all = Array.isArray(setCookie) ? setCookie : setCookie ? [String(setCookie)] : [];
  return all.map((header: string) => header.split(';')[0]!).join('; ');
}

/** Runs the whole connect flow as a person would, returning the callback's response and the connection id. */
export async function connectThroughSandbox(
  t: TestTether,
  control: SandboxControl,
  input: { integration: string; endUserId: string; account?: string; decision?: 'approve' | 'deny' },
): Promise<{
  status: number;
  body: string;
  connectionId: string | undefined;
  callbackUrl: string;
  cookie: string;
}> {
  const session = await t.app.inject({
    method: 'POST',
    url: '/v1/connect-sessions',
    headers: t.auth,
    payload: { integration: input.integration, endUserId: input.endUserId },
  });
  expect(session.statusCode, session.body).toBe(201);
  return completeConnectLink(t, control, session.json().url, input);
}

/** Opens a connect link as a person's browser would and answers the consent page. */
export async function completeConnectLink(
  t: TestTether,
  control: SandboxControl,
  url: string,
  input: { integration: string; endUserId: string; account?: string; decision?: 'approve' | 'deny' },
): Promise<{
  status: number;
  body: string;
  connectionId: string | undefined;
  callbackUrl: string;
  cookie: string;
}> {
  const start = await t.app.inject({ method: 'GET', url: new URL(url).pathname });
  expect(start.statusCode, start.body).toBe(302);
  const redirect = await control.authorize(start.headers.location as string, {
    decision: input.decision ?? 'approve',
    ...(input.account ? { account: input.account } : {}),
  });
  const callback = new URL(redirect.location);
  const res = await t.app.inject({
    method: 'GET',
    url: `${callback.pathname}${callback.search}`,
    headers: { cookie: cookiesFrom(start) },
  });
  const list = await t.app.inject({
    method: 'GET',
    url: `/v1/connections?endUserId=${encodeURIComponent(input.endUserId)}`,
    headers: t.auth,
  });
  const connectionId = (list.json().items as { id: string; integration: string }[]).find(
    (c) => c.integration === input.integration,
  )?.id;
  return {
    status: res.statusCode,
    body: res.body,
    connectionId,
    callbackUrl: `${callback.pathname}${callback.search}`,
    cookie: cookiesFrom(start),
  };
}
