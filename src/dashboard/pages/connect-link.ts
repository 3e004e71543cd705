import { html } from '../../http/html.ts';
import type { ConnectSession } from '../api-types.ts';
import { when } from '../layout.ts';
import type { RenderedPage } from '../page-context.ts';

/** The link a person opens to connect an account; shown once, as the API returned it. */
export function connectLinkPage(
  session: ConnectSession,
  integration: string,
  endUserId: string,
): RenderedPage {
  return {
    title: 'Connect link ready',
    section: 'connections',
    body: html`<p>Open this link in the browser of the person who owns the ${integration} account (end user <strong>${endUserId}</strong>). It works once and expires at ${when(session.expiresAt)}.</p>
<p><a class="connect-link" href="${session.url}" rel="noreferrer">${session.url}</a></p>
<p class="muted">Connect session ${session.id}. When it completes, the connection appears under <a href="/dashboard/connections">Connections</a>.</p>`,
  };
}
