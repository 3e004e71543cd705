import type { CallRecord } from './calls.ts';
import type { DatasetSummary } from './datasets/kinds.ts';
import type { FaultAction, FaultRule } from './faults.ts';
import type { SandboxClient } from './oauth/clients.ts';
import type { AccessToken, Grant, RefreshToken } from './oauth/grants.ts';
import type { SlackWebhook, SlackWebhookState } from './providers/slack-webhook-store.ts';
import type { RateLimitInput, RateLimitRule } from './rate-limits.ts';
import type { SeededAccounts } from './seed.ts';
import type { ProviderSettings, ProviderSettingsPatch, SandboxProvider } from './settings.ts';

// A typed client for the sandbox control API, for tests and scripts:
// `new SandboxControl('http://127.0.0.1:3000/sandbox')`. authorize() plays the person at the
// provider's consent page: it loads the page, picks an account, presses a button and returns
// where the provider redirected.

export interface AuthorizeResult {
  /** The redirect the provider answered with (the redirect_uri plus code/state or error). */
  location: string;
  code?: string;
  state?: string;
  error?: string;
  errorDescription?: string;
}

export interface FaultOptions {
  times?: number;
  rate?: number;
}

export type RevokeBy =
  | { refreshToken: string }
  | { accessToken: string }
  | { grantId: string }
  | { accountId: string; provider?: SandboxProvider };

export type GrantView = Grant & { accessTokens: AccessToken[]; refreshTokens: RefreshToken[] };

export class SandboxControl {
  readonly baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  async authorize(
    authorizeUrl: string,
    options: { decision?: 'approve' | 'deny'; account?: string } = {},
  ): Promise<AuthorizeResult> {
    const page = await fetch(authorizeUrl, { redirect: 'manual' });
    const html = await page.text();
    if (page.status >= 300 && page.status < 400) return readRedirect(page.headers.get('location'));
    if (!page.ok) throw new Error(`The authorize page answered ${page.status}: ${textOf(html)}`);
    const form = readConsentForm(html);
    const account = options.account
      ? form.accounts.find((a) => a.id === options.account || a.label === options.account)
      : form.accounts[0];
    if (!account) throw new Error(`"account" ${options.account} is not offered on the page`);
    const body = new URLSearchParams({
      ...form.hidden,
      account: account.id,
      decision: options.decision ?? 'approve',
    });
    const answer = await fetch(new URL(form.action, authorizeUrl), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    const text = await answer.text();
    if (answer.status < 300 || answer.status >= 400) {
      throw new Error(`The consent form answered ${answer.status}: ${textOf(text)}`);
    }
    return readRedirect(answer.headers.get('location'));
  }

  accounts(): Promise<SeededAccounts> {
    return this.call('GET', '/accounts');
  }
  registerClient(
    client: Omit<SandboxClient, 'name' | 'redirectUris'> & Partial<SandboxClient>,
  ): Promise<SandboxClient> {
    return this.call('POST', '/clients', client);
  }
  settings(provider: SandboxProvider): Promise<ProviderSettings> {
    return this.call('GET', `/providers/${provider}/settings`);
  }
  configure(provider: SandboxProvider, patch: ProviderSettingsPatch): Promise<ProviderSettings> {
    return this.call('PATCH', `/providers/${provider}/settings`, patch);
  }

  addFault(endpoint: string, action: FaultAction, options: FaultOptions = {}): Promise<FaultRule> {
    return this.call('POST', '/faults', { endpoint, action, ...options });
  }
  /** Answer the next `times` calls (default 1) with this status, body and headers. */
  failNext(
    endpoint: string,
    status: number,
    options: FaultOptions & { body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<FaultRule> {
    const { body, headers, ...rest } = options;
    return this.addFault(endpoint, { kind: 'respond', status, body, headers }, { times: 1, ...rest });
  }
  latency(endpoint: string, ms: number, options: FaultOptions = {}): Promise<FaultRule> {
    return this.addFault(endpoint, { kind: 'latency', ms }, options);
  }
  hang(endpoint: string, options: FaultOptions = {}): Promise<FaultRule> {
    return this.addFault(endpoint, { kind: 'hang' }, options);
  }
  drop(endpoint: string, options: FaultOptions = {}): Promise<FaultRule> {
    return this.addFault(endpoint, { kind: 'drop' }, options);
  }
  /** A provider's named failure, e.g. 'google.invalid_rapt'. */
  preset(name: string, options: FaultOptions = {}): Promise<FaultRule> {
    return this.call('POST', '/faults', { preset: name, ...options });
  }
  faults(): Promise<FaultRule[]> {
    return this.call('GET', '/faults');
  }
  removeFault(id: string): Promise<unknown> {
    return this.call('DELETE', `/faults/${encodeURIComponent(id)}`);
  }
  clearFaults(): Promise<unknown> {
    return this.call('DELETE', '/faults');
  }

  rateLimit(input: RateLimitInput): Promise<RateLimitRule> {
    return this.call('POST', '/rate-limits', input);
  }
  clearRateLimits(): Promise<unknown> {
    return this.call('DELETE', '/rate-limits');
  }

  calls(limit = 50): Promise<{ counts: Record<string, number>; recent: CallRecord[] }> {
    return this.call('GET', `/calls?limit=${limit}`);
  }
  async callCount(endpoint: string): Promise<number> {
    return (await this.calls(0)).counts[endpoint] ?? 0;
  }
  resetCalls(): Promise<unknown> {
    return this.call('DELETE', '/calls');
  }

  advanceClock(ms: number): Promise<{ now: string; offsetMs: number }> {
    return this.call('POST', '/clock/advance', { ms });
  }
  clock(): Promise<{ now: string; offsetMs: number }> {
    return this.call('GET', '/clock');
  }

  grants(): Promise<GrantView[]> {
    return this.call('GET', '/grants');
  }
  revoke(by: RevokeBy): Promise<{ revoked: string[] }> {
    return this.call('POST', '/grants/revoke', by);
  }
  expireAccessToken(accessToken: string): Promise<{ expiresAt: string }> {
    return this.call('POST', '/access-tokens/expire', { accessToken });
  }

  slackWebhooks(): Promise<SlackWebhook[]> {
    return this.call('GET', '/slack/webhooks');
  }
  setSlackWebhookState(id: string, state: SlackWebhookState): Promise<SlackWebhook> {
    return this.call('POST', `/slack/webhooks/${encodeURIComponent(id)}`, { state });
  }

  /** Sizes a generated dataset (`google`, `messages`) for one account (id or email). */
  sizeDataset(
    provider: string,
    model: string,
    input: { account: string; count: number; seed: string; malformedEvery?: number },
  ): Promise<DatasetSummary> {
    return this.call('PUT', `/datasets/${provider}/${model}`, input);
  }
  /** Adds, updates and deletes records of a dataset; the provider's change feed reports them. */
  changeDataset(
    provider: string,
    model: string,
    input: { account: string; added?: number; updated?: number; deleted?: number; seed: string },
  ): Promise<DatasetSummary> {
    return this.call('POST', `/datasets/${provider}/${model}/changes`, input);
  }

  reset(): Promise<unknown> {
    return this.call('POST', '/reset');
  }

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl}/_control${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok)
      throw new Error(`Sandbox control ${method} ${path} answered ${response.status}: ${text}`);
    return JSON.parse(text) as T;
  }
}

interface ConsentForm {
  action: string;
  hidden: Record<string, string>;
  accounts: { id: string; label: string }[];
}

/** Reads the sandbox's own consent page (see oauth/authorize-page.ts). */
function readConsentForm(html: string): ConsentForm {
  const action = /<form method="post" action="([^"]*)">/.exec(html)?.[1];
  if (action === undefined) throw new Error(`No consent form on the authorize page: ${textOf(html)}`);
  const hidden: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    hidden[unescapeHtml(m[1]!)] = unescapeHtml(m[2]!);
  }
  const accounts = [
    ...html.matchAll(/<input type="radio" name="account" value="([^"]*)"(?: checked)?> ([^<]*)<\/label>/g),
  ].map((m) => ({ id: unescapeHtml(m[1]!), label: unescapeHtml(m[2]!.trim()) }));
  return { action: unescapeHtml(action), hidden, accounts };
}

function readRedirect(location: string | null): AuthorizeResult {
  if (!location) throw new Error('The provider answered a redirect without a Location');
  const params = new URL(location).searchParams;
  const pick = (name: string) => params.get(name) ?? undefined;
  return {
    location,
    code: pick('code'),
    state: pick('state'),
    error: pick('error'),
    errorDescription: pick('error_description'),
  };
}

function unescapeHtml(text: string): string {
  return text
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

function textOf(html: string): string {
  return html
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 300);
}
