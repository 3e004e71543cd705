import { html, query } from '../../http/html.ts';
import { errorOf } from '../api-client.ts';
import type { List } from '../api-types.ts';
import { actionButton, badge, csrfField, emptyState, nextPageLink, table, when } from '../layout.ts';
import type { PageContext, RenderedPage } from '../page-context.ts';

interface Subscription {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  enabled: boolean;
  disabledReason: string | null;
  lastSuccessAt: string | null;
  failingSince: string | null;
}

interface Delivery {
  id: string;
  eventId: string;
  eventType: string;
  status: string;
  attempts: number;
  nextAttemptAt: string | null;
  lastAttemptAt: string | null;
  lastResponseStatus: number | null;
  lastLatencyMs: number | null;
  lastError: string | null;
}

const enabledBadge = (s: Subscription) =>
  s.enabled
    ? badge('enabled')
    : html`${badge('disabled')} <span class="muted">${s.disabledReason ?? ''}</span>`;

export async function subscriptionsPage({ api, query: q }: PageContext): Promise<RenderedPage> {
  const list = await api.get<List<Subscription>>(
    `/v1/event-subscriptions${query({ cursor: q.cursor, limit: 50 })}`,
  );
  if (list.status !== 200) {
    return {
      title: 'Event subscriptions',
      section: 'subscriptions',
      status: list.status,
      body: html`<p class="notice error">${errorOf(list).message}</p>`,
    };
  }
  return {
    title: 'Event subscriptions',
    section: 'subscriptions',
    body: html`${
      list.body.items.length
        ? table(
            ['Subscription', 'URL', 'Events', 'State', 'Last success', 'Failing since'],
            list.body.items.map(
              (s) =>
                html`<tr><td><a href="/dashboard/subscriptions/${s.id}">${s.id}</a></td><td>${s.url}</td><td>${s.events.join(', ')}</td><td>${enabledBadge(s)}</td><td>${when(s.lastSuccessAt)}</td><td>${when(s.failingSince)}</td></tr>`,
            ),
          )
        : emptyState('No subscription yet: POST /v1/event-subscriptions {url, events} (see docs/events.md).')
    }
${nextPageLink('/dashboard/subscriptions', {}, list.body.nextCursor)}`,
  };
}

const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'];

export async function subscriptionPage({
  api,
  csrfToken,
  params,
  query: q,
}: PageContext): Promise<RenderedPage> {
  const id = encodeURIComponent(params.id!);
  const answer = await api.get<Subscription>(`/v1/event-subscriptions/${id}`);
  if (answer.status !== 200) {
    return {
      title: 'Event subscription',
      section: 'subscriptions',
      status: answer.status,
      body: html`<p class="notice error">${errorOf(answer).message}</p>`,
    };
  }
  const s = answer.body;
  const status = DELIVERY_STATUSES.includes(q.status ?? '') ? q.status : undefined;
  const deliveries = await api.get<List<Delivery>>(
    `/v1/event-subscriptions/${id}/deliveries${query({ status, cursor: q.cursor, limit: 50 })}`,
  );
  const base = `/dashboard/subscriptions/${id}`;
  const dayAgo = new Date(Date.now() - 86_400_000).toISOString().slice(0, 16);
  return {
    title: `Event subscription ${s.id}`,
    section: 'subscriptions',
    body: html`<dl class="facts">
<dt>URL</dt><dd>${s.url}</dd>
<dt>Events</dt><dd>${s.events.join(', ')}</dd>
${s.description ? html`<dt>Description</dt><dd>${s.description}</dd>` : ''}
<dt>State</dt><dd>${enabledBadge(s)}</dd>
<dt>Last success</dt><dd>${when(s.lastSuccessAt)}</dd>
<dt>Failing since</dt><dd>${when(s.failingSince)}</dd>
</dl>
<div class="actions">
${s.enabled ? actionButton(`${base}/disable`, 'Disable', csrfToken, true) : actionButton(`${base}/enable`, 'Enable', csrfToken)}
${actionButton(`${base}/rotate-secret`, 'Rotate the secret', csrfToken)}
<form method="post" action="${base}/recover" class="inline">${csrfField(csrfToken)}
<label>Send again every failed delivery since <input type="datetime-local" name="since" value="${dayAgo}" required></label> <button>Recover</button></form>
</div>
<h2>Deliveries</h2>
<form class="filters" method="get" action="${base}">
<label>Status<select name="status"><option value="">any</option>${DELIVERY_STATUSES.map((d) => html`<option value="${d}"${d === status ? html` selected` : ''}>${d}</option>`)}</select></label>
<button>Filter</button>
</form>
${
  deliveries.status === 200 && deliveries.body.items.length
    ? table(
        ['Event (webhook-id)', 'Type', 'Status', 'Attempts', 'Last answer', 'Latency', 'Next attempt', ''],
        deliveries.body.items.map(
          (d) =>
            html`<tr><td>${d.eventId}</td><td>${d.eventType}</td><td>${badge(d.status)}</td><td>${d.attempts}</td><td>${d.lastResponseStatus ?? ''} ${d.lastError ? html`<span class="muted">${d.lastError}</span>` : ''}</td><td>${d.lastLatencyMs === null ? '' : `${d.lastLatencyMs} ms`}</td><td>${when(d.nextAttemptAt)}</td><td><form method="post" action="/dashboard/deliveries/${d.id}/retry" class="inline">${csrfField(csrfToken)}<input type="hidden" name="subscription" value="${s.id}"><button>Retry</button></form></td></tr>`,
        ),
      )
    : emptyState('No delivery yet.')
}
${deliveries.status === 200 ? nextPageLink(base, { status }, deliveries.body.nextCursor) : ''}`,
  };
}

export function rotatedSecretPage(secret: string, subscriptionId: string): RenderedPage {
  return {
    title: 'New signing secret',
    section: 'subscriptions',
    body: html`<p>The new secret of subscription <a href="/dashboard/subscriptions/${subscriptionId}">${subscriptionId}</a>. It is shown this once; the old one keeps signing beside it for 24 hours, so receivers can switch without losing an event.</p>
<pre>${secret}</pre>`,
  };
}
