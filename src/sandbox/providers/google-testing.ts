import type { SandboxFixture } from '../testing.ts';
import { postForm, REDIRECT_URI, withQuery } from '../testing.ts';

// For the sandbox's Google API tests: an access token of the first seeded Google account.

const CLIENT = { client_id: 'sandbox-google-client', client_secret: 'sandbox-google-secret' };

export async function googleAccessToken(sb: SandboxFixture, scope: string): Promise<string> {
  const consent = await sb.control.authorize(
    withQuery(sb.endpoints.google.authorizationUrl, {
      client_id: CLIENT.client_id,
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      scope: `openid email ${scope}`,
      state: 's',
      access_type: 'offline',
    }),
  );
  const tokens = await postForm(sb.endpoints.google.tokenUrl, {
    grant_type: 'authorization_code',
    code: consent.code!,
    redirect_uri: REDIRECT_URI,
    ...CLIENT,
  });
  return tokens.body.access_token;
}
