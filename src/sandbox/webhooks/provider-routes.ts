import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { bearerToken } from '../http.ts';
import { endpoint } from '../route-config.ts';
import { verifyPaypalOnline, verifyWebhookSignatureBody } from './paypal-verify.ts';
import type { WebhookSenderState } from './sender-state.ts';

// What the real senders serve besides the deliveries themselves, at paths that mirror theirs:
//   GET  /paypal/v1/notifications/certs/:name             (PAYPAL-CERT-URL; PEM, leaf then CA)
//   POST /paypal/v1/oauth2/token                          (client credentials, for the next one)
//   POST /paypal/v1/notifications/verify-webhook-signature (online check; always 200 when well-formed)
//   GET  /google/oauth2/v3/certs                          (JWKS of the push-token key)

export interface ProviderRoutesDeps {
  state: WebhookSenderState;
  now(): Date;
  /** The path (prefix included) a certificate name is served at. */
  certPath(name: string): string;
  serveJwks: boolean;
}

export function registerProviderRoutes(app: FastifyInstance, deps: ProviderRoutesDeps): void {
  const { state } = deps;

  app.get<{ Params: { name: string } }>(
    '/paypal/v1/notifications/certs/:name',
    endpoint('paypal.cert'),
    async (request, reply) => {
      const cert = state.paypalCerts.get(request.params.name);
      if (!cert)
        return reply
          .code(404)
          .send(paypalError('RESOURCE_NOT_FOUND', 'The specified resource does not exist.'));
      return reply.type('application/x-pem-file').send(cert.pem);
    },
  );

  const issued = new Set<string>();
  app.post('/paypal/v1/oauth2/token', endpoint('paypal.token'), async (request, reply) => {
    if (!/^Basic\s+\S+/i.test(request.headers.authorization ?? '')) {
      return reply
        .code(401)
        .send({ error: 'invalid_client', error_description: 'Client Authentication failed' });
    }
    const token = `A21AA${randomBytes(32).toString('base64url')}`;
    issued.add(token);
    return {
      scope: 'https://uri.paypal.com/services/applications/webhooks',
      access_token: token,
      token_type: 'Bearer',
      app_id: 'APP-80W284485P519543T',
      expires_in: 32400,
      nonce: `${deps.now().toISOString()}${randomBytes(8).toString('hex')}`,
    };
  });

  app.post(
    '/paypal/v1/notifications/verify-webhook-signature',
    endpoint('paypal.verify-webhook-signature'),
    async (request, reply) => {
      const token = bearerToken(request);
      if (!token || !issued.has(token)) {
        return reply
          .code(401)
          .send({ error: 'invalid_token', error_description: 'Token signature verification failed' });
      }
      const parsed = verifyWebhookSignatureBody.safeParse(request.body);
      if (!parsed.success) {
        return reply.code(400).send({
          ...paypalError('VALIDATION_ERROR', 'Invalid request - see details'),
          details: parsed.error.issues.map((i) => ({ field: i.path.join('/'), issue: i.message })),
        });
      }
      const status = verifyPaypalOnline(parsed.data, {
        certFor: (url) => certByUrl(state, url, deps.certPath),
        log: state.paypalLog,
        now: deps.now(),
      });
      return { verification_status: status };
    },
  );

  if (deps.serveJwks) {
    app.get('/google/oauth2/v3/certs', endpoint('google.jwks'), async (_request, reply) =>
      reply.header('cache-control', 'public, max-age=21600, must-revalidate').send(state.pushKeys.jwks),
    );
  }
}

/** Only this sandbox's certificate URLs name a certificate (whatever origin the caller used). */
function certByUrl(state: WebhookSenderState, url: string, pathOf: (name: string) => string) {
  if (!URL.canParse(url)) return undefined;
  const path = new URL(url).pathname;
  const name = decodeURIComponent(path.slice(path.lastIndexOf('/') + 1));
  const cert = state.paypalCerts.get(name);
  return cert && pathOf(cert.name) === path ? cert : undefined;
}

function paypalError(name: string, message: string) {
  return { name, message, debug_id: randomBytes(7).toString('hex'), links: [] };
}
