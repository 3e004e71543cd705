import { html, query } from '../../http/html.ts';
import { errorOf } from '../api-client.ts';
import type { AuditEntry, ConnectionView, List, RecordItem, SyncItem } from '../api-types.ts';
import { actionButton, badge, csrfField, emptyState, nextPageLink, table, when } from '../layout.ts';
import type { PageContext, RenderedPage } from '../page-context.ts';
import { adviceFor } from '../plain-words.ts';

export async function connectionPage({
  api,
  csrfToken,
  params,
  query: q,
}: PageContext): Promise<RenderedPage> {
  const id = params.id!;
  const path = `/v1/connections/${encodeURIComponent(id)}`;
  const answer = await api.get<ConnectionView>(path);
  if (answer.status !== 200) {
    return {
      title: 'Connection',
      section: 'connections',
      status: answer.status,
      body: html`<p class="notice error">${errorOf(answer).message}</p>`,
    };
  }
  const c = answer.body;
  const [syncs, audit] = await Promise.all([
    api.get<List<SyncItem>>(`${path}/syncs`),
    api.get<List<AuditEntry>>(`/v1/audit${query({ subjectType: 'connection', subjectId: id, limit: 20 })}`),
  ]);
  const syncItems = syncs.status === 200 ? syncs.body.items : [];
  const models = syncItems.flatMap((s) => (s.models ?? []) as string[]);
  const model = q.model && models.includes(q.model) ? q.model : undefined;
  const records = model
    ? await api.get<List<RecordItem>>(
        `${path}/records/${encodeURIComponent(model)}${query({ order: 'newest', cursor: q.cursor, limit: 25 })}`,
      )
    : undefined;
  const base = `/dashboard/connections/${encodeURIComponent(id)}`;
  const advice = adviceFor(c.lastError?.code) ?? adviceFor(c.status);
  const live = c.status !== 'disconnected';
  return {
    title: `Connection ${c.id}`,
    section: 'connections',
    body: html`<dl class="facts">
<dt>Status</dt><dd>${badge(c.status)}</dd>
<dt>Provider</dt><dd>${c.provider} · integration ${c.integration}</dd>
<dt>End user</dt><dd>${c.endUserId}</dd>
<dt>Provider account</dt><dd>${c.providerAccountId}</dd>
<dt>Token expires</dt><dd>${when(c.expiresAt)}</dd>
<dt>Last refresh</dt><dd>${when(c.lastRefreshAt)}</dd>
<dt>Can renew by itself</dt><dd>${c.refreshable ? 'yes' : 'no'}</dd>
${c.lastError ? html`<dt>Last error</dt><dd><strong>${c.lastError.message}</strong> <span class="muted">(${c.lastError.code}, ${when(c.lastError.at)})</span>${advice ? html`<br>${advice}` : ''}</dd>` : ''}
</dl>
<div class="actions">
${live ? actionButton(`${base}/refresh`, 'Refresh now', csrfToken) : ''}
${actionButton(`${base}/reconnect`, 'Reconnect (new connect link)', csrfToken)}
${live ? actionButton(`${base}/disconnect`, 'Disconnect', csrfToken, true) : ''}
</div>
<h2>Syncs</h2>
${
  syncItems.length
    ? table(
        ['Sync', 'Models', 'Enabled', 'Frequency', 'Last run', 'Next run', ''],
        syncItems.map(
          (
            s,
          ) => html`<tr><td>${s.name}</td><td>${(s.models ?? []).map((m: string) => html`<a href="${base}?model=${m}">${m}</a> `)}</td>
<td>${s.enabled ? 'yes' : 'no'}</td><td>${String(s.frequency ?? '')}</td>
<td>${s.lastRun ? html`<a href="/dashboard/sync-runs/${s.lastRun.id}">${badge(String(s.lastRun.status))}</a> ${when(s.lastRun.finishedAt ?? s.lastRun.startedAt)}` : html`<span class="muted">never</span>`}</td>
<td>${when(s.nextRunAt)}</td>
<td><div class="actions">${actionButton(`${base}/syncs/${s.name}/run`, 'Run now', csrfToken)}${actionButton(`${base}/syncs/${s.name}/reset`, 'Reset', csrfToken)}
<form method="post" action="${base}/syncs/${s.name}/settings" class="inline">${csrfField(csrfToken)}
<input type="hidden" name="enabled" value="${s.enabled ? 'false' : 'true'}"><button>${s.enabled ? 'Disable' : 'Enable'}</button></form>
<form method="post" action="${base}/syncs/${s.name}/settings" class="inline">${csrfField(csrfToken)}
<input name="frequency" value="${String(s.frequency ?? '')}" size="5" aria-label="Frequency of ${s.name}"><button>Set frequency</button></form></div></td></tr>`,
        ),
      )
    : emptyState(
        syncs.status === 200
          ? 'This connection offers no sync.'
          : 'Syncs are not available for this connection.',
      )
}
${
  model && records
    ? html`<h2>Records: ${model} <span class="muted">(newest change first)</span></h2>${
        records.status === 200 && records.body.items.length
          ? table(
              ['Id', 'Last change', 'Changed at', 'Data'],
              records.body.items.map(
                (r) =>
                  html`<tr><td>${r.id}</td><td>${badge(r.lastAction)}</td><td>${when(r.lastModifiedAt)}</td><td><code class="data">${truncate(JSON.stringify(r.data), 240)}</code></td></tr>`,
              ),
            )
          : emptyState(records.status === 200 ? 'No record of this model yet.' : errorOf(records).message)
      }${records.status === 200 ? nextPageLink(base, { model }, records.body.nextCursor) : ''}`
    : ''
}
<h2>Audit trail</h2>
${
  audit.status === 200 && audit.body.items.length
    ? table(
        ['When', 'Who', 'What'],
        audit.body.items.map(
          (e) => html`<tr><td>${when(e.occurredAt)}</td><td>${e.actor}</td><td>${e.action}</td></tr>`,
        ),
      )
    : emptyState('Nothing recorded yet.')
}`,
  };
}

/** A record's data on one line, cut to `max` characters (the API gives it whole). */
function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
