import { html, query } from '../../http/html.ts';
import { redactSecrets } from '../../redact.ts';
import { errorOf } from '../api-client.ts';
import type { InboxEvent, InboxEventWithPayload, List } from '../api-types.ts';
import { actionButton, badge, emptyState, nextPageLink, table, when } from '../layout.ts';
import type { PageContext, RenderedPage } from '../page-context.ts';

const STATUSES = ['pending', 'processing', 'processed', 'failed', 'dead'];

export async function inboxPage({ api, query: q }: PageContext): Promise<RenderedPage> {
  const filters = {
    status: STATUSES.includes(q.status ?? '') ? q.status : undefined,
    integration: q.integration,
  };
  const list = await api.get<List<InboxEvent>>(
    `/v1/events${query({ ...filters, cursor: q.cursor, limit: 50 })}`,
  );
  if (list.status !== 200) {
    return {
      title: 'Webhook inbox',
      section: 'inbox',
      status: list.status,
      body: html`<p class="notice error">${errorOf(list).message}</p>`,
    };
  }
  const items = list.body.items;
  return {
    title: 'Webhook inbox',
    section: 'inbox',
    body: html`<form class="filters" method="get" action="/dashboard/inbox">
<label>Status<select name="status"><option value="">any</option>${STATUSES.map((s) => html`<option value="${s}"${s === filters.status ? html` selected` : ''}>${s}</option>`)}</select></label>
<label>Integration (source)<input name="integration" value="${filters.integration ?? ''}" maxlength="64"></label>
<button>Filter</button>
</form>
${
  items.length
    ? table(
        ['Event', 'Status', 'Source', 'Type', 'Attempts', 'Received', 'Error'],
        items.map(
          (e) =>
            html`<tr><td><a href="/dashboard/inbox/${e.id}">${e.eventId}</a></td><td>${badge(e.status)}</td><td>${e.source}<br><span class="muted">${e.integration}</span></td><td>${e.type}</td><td>${e.attempts}</td><td>${when(e.receivedAt)}</td><td>${e.lastError ?? ''}</td></tr>`,
        ),
      )
    : emptyState(
        filters.status || filters.integration
          ? 'No event matches these filters.'
          : 'No webhook has arrived yet.',
      )
}
${nextPageLink('/dashboard/inbox', filters, list.body.nextCursor)}`,
  };
}

export async function inboxEventPage({ api, csrfToken, params }: PageContext): Promise<RenderedPage> {
  const answer = await api.get<InboxEventWithPayload>(`/v1/events/${encodeURIComponent(params.id!)}`);
  if (answer.status !== 200) {
    return {
      title: 'Webhook event',
      section: 'inbox',
      status: answer.status,
      body: html`<p class="notice error">${errorOf(answer).message}</p>`,
    };
  }
  const e = answer.body;
  // The payload as the provider sent it, but with secret-named fields (client secrets, tokens) hidden.
  const payload = JSON.stringify(redactSecrets(e.payload), null, 2);
  return {
    title: `Webhook event ${e.eventId}`,
    section: 'inbox',
    body: html`<dl class="facts">
<dt>Status</dt><dd>${badge(e.status)}</dd>
<dt>Source</dt><dd>${e.source} · integration ${e.integration}</dd>
<dt>Type</dt><dd>${e.type}</dd>
<dt>Attempts</dt><dd>${e.attempts}</dd>
<dt>Received</dt><dd>${when(e.receivedAt)}</dd>
<dt>Processed</dt><dd>${when(e.processedAt)}</dd>
${e.lastError ? html`<dt>Last error</dt><dd>${e.lastError}</dd>` : ''}
</dl>
<div class="actions">${actionButton(`/dashboard/inbox/${e.id}/replay`, 'Replay', csrfToken)}</div>
<h2>Payload</h2>
<pre>${payload}</pre>`,
  };
}
