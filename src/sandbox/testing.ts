import { randomBytes } from 'node:crypto';
import { SandboxControl } from './control-client.ts';
import { sandboxEndpoints } from './endpoints.ts';
import { type SandboxServer, startSandboxServer } from './index.ts';
import { s256 } from './oauth/pkce.ts';

// Helpers for tests that drive the sandbox over real HTTP on 127.0.0.1.

/** A response body as tests read it: loosely, then checked with expect(). */
// biome-ignore lint/suspicious/noExplicitAny: test assertions check the shape of what they read.
export type Loose = any;

export const REDIRECT_URI = 'http://127.0.0.1:9/oauth/callback';

export interface SandboxFixture {
  server: SandboxServer;
  control: SandboxControl;
  endpoints: ReturnType<typeof sandboxEndpoints>;
}

export async function startSandboxFixture(seed?: string): Promise<SandboxFixture> {
  const server = await startSandboxServer({ seed });
  return { server, control: new SandboxControl(server.url), endpoints: sandboxEndpoints(server.url) };
}

export function basicAuth(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

export function withQuery(url: string, params: Record<string, string>): string {
  const out = new URL(url);
  for (const [key, value] of Object.entries(params)) out.searchParams.set(key, value);
  return out.href;
}

export async function postForm(
  url: string,
  params: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: Loose }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params),
  });
  return { status: response.status, headers: response.headers, body: await readBody(response) };
}

export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: Loose }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: await readBody(response) };
}

export async function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; body: Loose }> {
  const response = await fetch(url, { headers });
  return { status: response.status, headers: response.headers, body: await readBody(response) };
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: s256(verifier) };
}

async function readBody(response: Response): Promise<Loose> {
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
