import { html, query } from '../../http/html.ts';
import { errorOf } from '../api-client.ts';
import type { AuditEntry, List } from '../api-types.ts';
import { emptyState, nextPageLink, table, when } from '../layout.ts';
import type { PageContext, RenderedPage } from '../page-context.ts';

export async function auditPage({ api, query: q }: PageContext): Promise<RenderedPage> {
  const filters = { action: q.action, subjectId: q.subjectId };
  const list = await api.get<List<AuditEntry>>(
    `/v1/audit${query({ ...filters, cursor: q.cursor, limit: 50 })}`,
  );
  if (list.status !== 200) {
    return {
      title: 'Audit log',
      section: 'audit',
      status: list.status,
      body: html`<p class="notice error">${errorOf(list).message}</p>`,
    };
  }
  const items = list.body.items;
  return {
    title: 'Audit log',
    section: 'audit',
    body: html`<form class="filters" method="get" action="/dashboard/audit">
<label>Action<input name="action" value="${filters.action ?? ''}" maxlength="200" placeholder="connection.refreshed"></label>
<label>Subject id<input name="subjectId" value="${filters.subjectId ?? ''}" maxlength="200"></label>
<button>Filter</button>
</form>
${
  items.length
    ? table(
        ['When', 'Who', 'What', 'Subject', 'Details'],
        items.map(
          (e) =>
            html`<tr><td>${when(e.occurredAt)}</td><td>${e.actor}</td><td>${e.action}</td><td>${e.subjectType ?? ''} ${e.subjectType === 'connection' ? html`<a href="/dashboard/connections/${e.subjectId}">${e.subjectId}</a>` : (e.subjectId ?? '')}</td><td><pre>${JSON.stringify(e.metadata)}</pre></td></tr>`,
        ),
      )
    : emptyState('Nothing recorded yet.')
}
${nextPageLink('/dashboard/audit', filters, list.body.nextCursor)}`,
  };
}
