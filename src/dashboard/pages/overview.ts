import { html } from '../../http/html.ts';
import type {
  ConnectionView,
  InboxEvent,
  List,
  StatusSummary,
  SubscriptionItem,
  SyncRunItem,
} from '../api-types.ts';
import { badge, emptyState, table, when } from '../layout.ts';
import type { PageContext, RenderedPage } from '../page-context.ts';

export async function overviewPage({ api }: PageContext): Promise<RenderedPage> {
  const [summary, attention, inbox, failedEvents, runs, subscriptions] = await Promise.all([
    api.get<StatusSummary>('/v1/connections/summary'),
    api.get<List<ConnectionView>>('/v1/connections?status=reauthorization_required&limit=10'),
    api.get<StatusSummary>('/v1/events/summary'),
    api.get<List<InboxEvent>>('/v1/events?status=dead&limit=5'),
    api.get<List<SyncRunItem>>('/v1/sync-runs?limit=5'),
    api.get<List<SubscriptionItem>>('/v1/event-subscriptions?limit=100'),
  ]);
  const byStatus: Record<string, number> = summary.body?.byStatus ?? {};
  const inboxStatus: Record<string, number> = inbox.body?.byStatus ?? {};
  const cards = html`<div class="cards">
${Object.entries(byStatus).map(
  ([status, n]) =>
    html`<a class="card" href="/dashboard/connections?status=${status}"><div class="figure">${n}</div>${badge(status)}</a>`,
)}
<a class="card" href="/dashboard/inbox?status=dead"><div class="figure">${(inboxStatus.dead ?? 0) + (inboxStatus.failed ?? 0)}</div><span class="badge bad">webhooks failing</span></a>
</div>`;
  const needsReconnect = attention.status === 200 ? attention.body.items : [];
  const dead = failedEvents.status === 200 ? failedEvents.body.items : [];
  const recentRuns = runs.status === 200 ? runs.body.items : undefined;
  const failingSubscriptions =
    subscriptions.status === 200
      ? subscriptions.body.items.filter((s) => !s.enabled || s.failingSince)
      : undefined;
  return {
    title: 'Overview',
    section: 'overview',
    body: html`${cards}
<h2>Needs reconnecting</h2>
${
  needsReconnect.length
    ? table(
        ['Connection', 'Provider', 'End user', 'Why'],
        needsReconnect.map(
          (c) =>
            html`<tr><td><a href="/dashboard/connections/${c.id}">${c.id}</a></td><td>${c.provider}</td><td>${c.endUserId}</td><td>${c.lastError?.message ?? ''}</td></tr>`,
        ),
      )
    : emptyState('Every connection can renew its token by itself.')
}
<h2>Webhooks that failed for good</h2>
${
  dead.length
    ? table(
        ['Event', 'Source', 'Type', 'Received', 'Error'],
        dead.map(
          (e) =>
            html`<tr><td><a href="/dashboard/inbox/${e.id}">${e.eventId}</a></td><td>${e.source}</td><td>${e.type}</td><td>${when(e.receivedAt)}</td><td>${e.lastError ?? ''}</td></tr>`,
        ),
      )
    : emptyState('No dead webhook events.')
}
${
  recentRuns
    ? html`<h2>Recent sync runs</h2>${
        recentRuns.length
          ? table(
              ['Run', 'Sync', 'Status', 'Started', 'Imported', 'Failed'],
              recentRuns.map(
                (r) =>
                  html`<tr><td><a href="/dashboard/sync-runs/${r.id}">${r.id}</a></td><td>${r.sync ?? ''}</td><td>${badge(String(r.status))}</td><td>${when(r.startedAt)}</td><td>${r.counts?.imported ?? ''}</td><td>${r.counts?.failed ?? ''}</td></tr>`,
              ),
            )
          : emptyState('No sync has run yet.')
      }`
    : ''
}
${
  failingSubscriptions
    ? html`<h2>Event subscriptions failing or disabled</h2>${
        failingSubscriptions.length
          ? table(
              ['Subscription', 'URL', 'State'],
              failingSubscriptions.map(
                (s) =>
                  html`<tr><td><a href="/dashboard/subscriptions/${s.id}">${s.id}</a></td><td>${s.url}</td></tr>`,
              ),
            )
          : emptyState('Every event subscription is enabled and delivering.')
      }`
    : ''
}`,
  };
}
