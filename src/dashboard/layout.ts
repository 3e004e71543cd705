import { type Html, html } from '../http/html.ts';

export interface PageFrame {
  title: string;
  /** The nav entry to mark current. */
  section?: 'overview' | 'connections' | 'inbox' | 'sync-runs' | 'subscriptions' | 'audit';
  /** The session's CSRF token: present once signed in (the sign-out form needs it). */
  csrfToken?: string;
  notice?: { kind: 'ok' | 'error'; text: string };
  body: Html;
}

const NAV: { section: NonNullable<PageFrame['section']>; href: string; label: string }[] = [
  { section: 'overview', href: '/dashboard', label: 'Overview' },
  { section: 'connections', href: '/dashboard/connections', label: 'Connections' },
  { section: 'inbox', href: '/dashboard/inbox', label: 'Webhook inbox' },
  { section: 'sync-runs', href: '/dashboard/sync-runs', label: 'Sync runs' },
  { section: 'subscriptions', href: '/dashboard/subscriptions', label: 'Event subscriptions' },
  { section: 'audit', href: '/dashboard/audit', label: 'Audit log' },
];

export function page(frame: PageFrame): string {
  const nav = frame.csrfToken
    ? html`<nav aria-label="Main">${NAV.map(
        (item) =>
          html`<a href="${item.href}"${item.section === frame.section ? html` aria-current="page"` : ''}>${item.label}</a>`,
      )}
      <form method="post" action="/dashboard/sign-out" class="inline">${csrfField(frame.csrfToken)}<button class="link">Sign out</button></form></nav>`
    : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${frame.title} · tether</title>
<link rel="stylesheet" href="/dashboard/assets/style.css">
</head>
<body>
<header><a class="brand" href="/dashboard">tether</a>${nav}</header>
<main>
${frame.notice ? html`<p class="notice ${frame.notice.kind}" role="status">${frame.notice.text}</p>` : ''}
<h1>${frame.title}</h1>
${frame.body}
</main>
</body>
</html>`.text;
}

export function csrfField(token: string): Html {
  return html`<input type="hidden" name="_csrf" value="${token}">`;
}

/** A POST button that carries the CSRF token: every action is one of these. */
export function actionButton(action: string, label: string, csrfToken: string, danger = false): Html {
  return html`<form method="post" action="${action}" class="inline">${csrfField(csrfToken)}<button${danger ? html` class="danger"` : ''}>${label}</button></form>`;
}

const STATUS_TONE: Record<string, string> = {
  connected: 'good',
  succeeded: 'good',
  processed: 'good',
  delivered: 'good',
  enabled: 'good',
  degraded: 'warn',
  partial: 'warn',
  pending: 'warn',
  running: 'info',
  processing: 'info',
  reauthorization_required: 'bad',
  failed: 'bad',
  dead: 'bad',
  disabled: 'bad',
  disconnected: 'muted',
};

export function badge(status: string): Html {
  return html`<span class="badge ${STATUS_TONE[status] ?? 'muted'}">${status.replaceAll('_', ' ')}</span>`;
}

export function when(iso: string | null | undefined): Html {
  if (!iso) return html`<span class="muted">—</span>`;
  return html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>`;
}

export function emptyState(text: string): Html {
  return html`<p class="empty">${text}</p>`;
}

/** A table that scrolls sideways on a phone instead of breaking the page. */
export function table(headers: string[], rows: Html[]): Html {
  return html`<div class="table"><table><thead><tr>${headers.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead><tbody>${rows}</tbody></table></div>`;
}

export function nextPageLink(
  path: string,
  params: Record<string, string | undefined>,
  nextCursor: string | null,
): Html {
  if (!nextCursor) return html``;
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) search.set(k, v);
  search.set('cursor', nextCursor);
  return html`<p><a class="more" href="${path}?${search.toString()}">Older →</a></p>`;
}
