import { html, query } from '../../http/html.ts';
import { isOAuthProviderName } from '../../providers/index.ts';
import { errorOf } from '../api-client.ts';
import type { ConnectionView, IntegrationItem, List } from '../api-types.ts';
import { badge, csrfField, emptyState, nextPageLink, table, when } from '../layout.ts';
import type { PageContext, RenderedPage } from '../page-context.ts';

const STATUSES = ['connected', 'degraded', 'reauthorization_required', 'disconnected'];

export async function connectionsPage({ api, csrfToken, query: q }: PageContext): Promise<RenderedPage> {
  const filters = {
    status: STATUSES.includes(q.status ?? '') ? q.status : undefined,
    integration: q.integration,
  };
  const [list, integrations] = await Promise.all([
    api.get<List<ConnectionView>>(`/v1/connections${query({ ...filters, cursor: q.cursor, limit: 50 })}`),
    api.get<List<IntegrationItem>>('/v1/integrations?limit=200'),
  ]);
  if (list.status !== 200) {
    return {
      title: 'Connections',
      section: 'connections',
      status: list.status,
      body: html`<p class="notice error">${errorOf(list).message}</p>`,
    };
  }
  const oauthIntegrations = (integrations.status === 200 ? integrations.body.items : []).filter((i) =>
    // Only integrations a person connects an account to (not webhook sources).
    isOAuthProviderName(i.provider),
  );
  const items = list.body.items;
  return {
    title: 'Connections',
    section: 'connections',
    body: html`<details><summary>Connect a new account</summary>
<form class="stack" method="post" action="/dashboard/connect">${csrfField(csrfToken)}
<label>Integration<select name="integration" required>${oauthIntegrations.map((i) => html`<option value="${i.key}">${i.key} (${i.provider})</option>`)}</select></label>
<label>End user id<input name="endUserId" required maxlength="200" placeholder="the host app's user id"></label>
<button>Create connect link</button>
</form></details>
<form class="filters" method="get" action="/dashboard/connections">
<label>Status<select name="status"><option value="">any</option>${STATUSES.map((s) => html`<option value="${s}"${s === filters.status ? html` selected` : ''}>${s.replaceAll('_', ' ')}</option>`)}</select></label>
<label>Integration<input name="integration" value="${filters.integration ?? ''}" maxlength="64"></label>
<button>Filter</button>
</form>
${
  items.length
    ? table(
        ['Connection', 'Status', 'Provider', 'End user', 'Token expires', 'Last refresh', 'Last error'],
        items.map(
          (c) =>
            html`<tr><td><a href="/dashboard/connections/${c.id}">${c.id}</a></td><td>${badge(c.status)}</td><td>${c.provider}<br><span class="muted">${c.integration}</span></td><td>${c.endUserId}</td><td>${when(c.expiresAt)}</td><td>${when(c.lastRefreshAt)}</td><td>${c.lastError?.message ?? ''}</td></tr>`,
        ),
      )
    : emptyState(
        filters.status || filters.integration
          ? 'No connection matches these filters.'
          : 'No connection yet: create a connect link above and open it.',
      )
}
${nextPageLink('/dashboard/connections', filters, list.body.nextCursor)}`,
  };
}
