import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { readParams } from '../http.ts';
import { endpoint } from '../route-config.ts';
import type { AccountChoice } from '../seed.ts';
import type { SandboxProvider } from '../settings.ts';
import type { SandboxState } from '../state.ts';
import { renderConsentPage, renderErrorPage } from './authorize-page.ts';
import { redirectAllowed, type SandboxClient } from './clients.ts';
import type { AuthorizationCode } from './codes.ts';
import { isPkceMethod, type PkceMethod } from './pkce.ts';

// The authorize endpoint every simulated provider shares. GET shows the consent page; the form
// POSTs back to the same path with the person's decision, which redirects to redirect_uri with
// `code` and `state`, or `error=access_denied`. A request whose client or redirect_uri is wrong
// never redirects (RFC 6749 §4.1.2.1): it shows an error page instead.

export interface AuthorizeQuirks {
  provider: SandboxProvider;
  /** What the page says at the top ('Sign in with Google'). */
  brand: string;
  /** The parameter naming the client; default 'client_id' (TikTok: 'client_key'). */
  clientIdParam?: string;
  /** Whether code_challenge is honoured. */
  pkce: boolean;
  choices(state: SandboxState): AccountChoice[];
  codePrefix?: string;
  /** Last touch to the success redirect (TikTok adds `scopes`; Instagram appends '#_'). */
  finishRedirect?(url: URL, code: AuthorizationCode): string;
}

type Checked =
  | {
      ok: true;
      client: SandboxClient;
      redirectUri: string;
      challenge: string | null;
      method: PkceMethod | null;
    }
  | { ok: false; page: { status: number; error: string; message: string } }
  | { ok: false; redirect: string };

export function registerAuthorize(
  app: FastifyInstance,
  state: SandboxState,
  path: string,
  quirks: AuthorizeQuirks,
) {
  const key = `${quirks.provider}.authorize`;

  app.get(path, endpoint(key), async (request, reply) => {
    const params = readParams(request.query);
    const checked = check(state, quirks, params);
    if (!checked.ok) return answerFailure(reply, quirks, checked);
    return reply.type('text/html; charset=utf-8').send(
      renderConsentPage({
        brand: quirks.brand,
        clientName: checked.client.name,
        scopes: splitScopes(params.scope ?? params.scopes),
        action: formAction(request),
        hidden: params,
        choices: quirks.choices(state),
      }),
    );
  });

  app.post(path, endpoint(`${key}.decision`), async (request, reply) => {
    const { decision, account, ...params } = readParams(request.body);
    const checked = check(state, quirks, params);
    if (!checked.ok) return answerFailure(reply, quirks, checked);
    if (decision !== 'approve') {
      return reply.redirect(
        errorRedirect(checked.redirectUri, params.state, 'access_denied', 'The user denied the request.'),
      );
    }
    const choices = quirks.choices(state);
    const chosen = choices.find((choice) => choice.id === account) ?? (account ? undefined : choices[0]);
    if (!chosen) return page(reply, quirks, 400, 'invalid_request', 'Choose one of the offered accounts.');

    const settings = state.settings[quirks.provider];
    const code = state.codes.issue(
      {
        provider: quirks.provider,
        clientId: checked.client.clientId,
        redirectUri: checked.redirectUri,
        accountId: chosen.id,
        scopes: splitScopes(params.scope ?? params.scopes),
        codeChallenge: checked.challenge,
        codeChallengeMethod: checked.method,
        params,
      },
      { now: state.clock.now(), ttlSec: settings.codeTtlSec, prefix: quirks.codePrefix },
    );
    const url = new URL(checked.redirectUri);
    url.searchParams.set('code', code.value);
    if (params.state !== undefined) url.searchParams.set('state', params.state);
    return reply.redirect(quirks.finishRedirect?.(url, code) ?? url.href);
  });
}

function check(state: SandboxState, quirks: AuthorizeQuirks, params: Record<string, string>): Checked {
  const clientParam = quirks.clientIdParam ?? 'client_id';
  const clientId = params[clientParam];
  const client = clientId ? state.clients.find(quirks.provider, clientId) : undefined;
  if (!client) {
    return {
      ok: false,
      page: {
        status: 400,
        error: 'invalid_client',
        message: `The OAuth client was not found (${clientParam}).`,
      },
    };
  }
  const only = client.redirectUris?.length === 1 ? client.redirectUris[0] : undefined;
  const redirectUri = params.redirect_uri ?? only;
  if (!redirectUri) {
    return { ok: false, page: { status: 400, error: 'invalid_request', message: 'Missing redirect_uri.' } };
  }
  if (!redirectAllowed(client, redirectUri)) {
    return {
      ok: false,
      page: {
        status: 400,
        error: 'redirect_uri_mismatch',
        message: `The redirect URI ${redirectUri} is not registered for this client.`,
      },
    };
  }
  if (params.response_type !== 'code') {
    return {
      ok: false,
      redirect: errorRedirect(
        redirectUri,
        params.state,
        'unsupported_response_type',
        'response_type must be code.',
      ),
    };
  }
  if (!quirks.pkce || !params.code_challenge)
    return { ok: true, client, redirectUri, challenge: null, method: null };
  const method = params.code_challenge_method ?? 'plain';
  if (!isPkceMethod(method)) {
    return {
      ok: false,
      redirect: errorRedirect(
        redirectUri,
        params.state,
        'invalid_request',
        'Unsupported code_challenge_method.',
      ),
    };
  }
  return { ok: true, client, redirectUri, challenge: params.code_challenge, method };
}

function answerFailure(
  reply: FastifyReply,
  quirks: AuthorizeQuirks,
  failure: Exclude<Checked, { ok: true }>,
) {
  if ('redirect' in failure) return reply.redirect(failure.redirect);
  return page(reply, quirks, failure.page.status, failure.page.error, failure.page.message);
}

function page(reply: FastifyReply, quirks: AuthorizeQuirks, status: number, error: string, message: string) {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .send(renderErrorPage(quirks.brand, error, message));
}

function errorRedirect(
  redirectUri: string,
  state: string | undefined,
  error: string,
  description: string,
): string {
  const url = new URL(redirectUri);
  url.searchParams.set('error', error);
  url.searchParams.set('error_description', description);
  if (state !== undefined) url.searchParams.set('state', state);
  return url.href;
}

function formAction(request: FastifyRequest): string {
  return request.url.split('?')[0] ?? request.url;
}

/** Scopes as sent: space-separated by the spec, comma-separated by TikTok and Instagram. */
function splitScopes(value: string | undefined): string[] {
  return (value ?? '').split(/[\s,]+/).filter(Boolean);
}
