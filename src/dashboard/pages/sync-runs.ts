import { html, query } from '../../http/html.ts';
import { errorOf } from '../api-client.ts';
import type { List, SyncRunItem } from '../api-types.ts';
import { badge, emptyState, nextPageLink, table, when } from '../layout.ts';
import type { PageContext, RenderedPage } from '../page-context.ts';

const STATUSES = ['running', 'succeeded', 'partial', 'failed'];

function duration(run: SyncRunItem): string {
  if (!run.startedAt) return '—';
  const end = run.finishedAt ? new Date(run.finishedAt).getTime() : Date.now();
  const seconds = Math.max(0, Math.round((end - new Date(run.startedAt).getTime()) / 1000));
  return seconds < 90 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
}

export async function syncRunsPage({ api, query: q }: PageContext): Promise<RenderedPage> {
  const filters = {
    status: STATUSES.includes(q.status ?? '') ? q.status : undefined,
    connectionId: q.connectionId,
  };
  const list = await api.get<List<SyncRunItem>>(
    `/v1/sync-runs${query({ ...filters, cursor: q.cursor, limit: 50 })}`,
  );
  if (list.status !== 200) {
    return {
      title: 'Sync runs',
      section: 'sync-runs',
      status: list.status,
      body: html`<p class="notice error">${errorOf(list).message}</p>`,
    };
  }
  return {
    title: 'Sync runs',
    section: 'sync-runs',
    body: html`<form class="filters" method="get" action="/dashboard/sync-runs">
<label>Status<select name="status"><option value="">any</option>${STATUSES.map((s) => html`<option value="${s}"${s === filters.status ? html` selected` : ''}>${s}</option>`)}</select></label>
<label>Connection<input name="connectionId" value="${filters.connectionId ?? ''}" maxlength="100"></label>
<button>Filter</button>
</form>
${
  list.body.items.length
    ? table(
        [
          'Run',
          'Sync',
          'Status',
          'Connection',
          'Imported',
          'Updated',
          'Deleted',
          'Failed',
          'Started',
          'Took',
        ],
        list.body.items.map(
          (r) =>
            html`<tr><td><a href="/dashboard/sync-runs/${r.id}">${r.id}</a></td><td>${r.sync ?? ''}</td><td>${badge(r.status)}</td><td><a href="/dashboard/connections/${r.connectionId ?? ''}">${r.connectionId ?? ''}</a></td><td>${r.counts?.imported}</td><td>${r.counts?.updated}</td><td>${r.counts?.deleted}</td><td>${r.counts?.failed}</td><td>${when(r.startedAt)}</td><td>${duration(r)}</td></tr>`,
        ),
      )
    : emptyState(
        filters.status || filters.connectionId ? 'No run matches these filters.' : 'No sync has run yet.',
      )
}
${nextPageLink('/dashboard/sync-runs', filters, list.body.nextCursor)}`,
  };
}

interface RunDetail extends SyncRunItem {
  trigger: string;
  pages: number;
  error: { code: string; message: string } | null;
  failedRecords: { model: string; id: string; error: { code: string; message: string }; attempts: number }[];
}

export async function syncRunPage({ api, params }: PageContext): Promise<RenderedPage> {
  const answer = await api.get<RunDetail>(`/v1/sync-runs/${encodeURIComponent(params.id!)}`);
  if (answer.status !== 200) {
    return {
      title: 'Sync run',
      section: 'sync-runs',
      status: answer.status,
      body: html`<p class="notice error">${errorOf(answer).message}</p>`,
    };
  }
  const r = answer.body;
  const counts = r.counts ?? {};
  return {
    title: `Sync run ${r.id}`,
    section: 'sync-runs',
    body: html`<dl class="facts">
<dt>Status</dt><dd>${badge(r.status)}</dd>
<dt>Sync</dt><dd>${r.sync ?? ''} · connection <a href="/dashboard/connections/${r.connectionId ?? ''}">${r.connectionId ?? ''}</a></dd>
<dt>Asked by</dt><dd>${r.trigger}</dd>
<dt>Started</dt><dd>${when(r.startedAt)}</dd>
<dt>Finished</dt><dd>${when(r.finishedAt)} (${duration(r)})</dd>
<dt>Pages</dt><dd>${r.pages}</dd>
${r.error ? html`<dt>Error</dt><dd><strong>${r.error.message}</strong> <span class="muted">(${r.error.code})</span></dd>` : ''}
</dl>
<div class="cards">${Object.entries(counts).map(([name, n]) => html`<div class="card"><div class="figure">${n}</div>${name}</div>`)}</div>
<h2>Failed records</h2>
${
  r.failedRecords.length
    ? table(
        ['Model', 'Record', 'Error', 'Attempts'],
        r.failedRecords.map(
          (f) =>
            html`<tr><td>${f.model}</td><td>${f.id}</td><td>${f.error.message} <span class="muted">(${f.error.code})</span></td><td>${f.attempts}</td></tr>`,
        ),
      )
    : emptyState('No record failed in this run.')
}`,
  };
}
