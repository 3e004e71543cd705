import { escapeHtml } from '../http/html.ts';

/** The small pages a person sees at the end of a connect flow. */

/** code: the stable connect outcome code (docs/errors.md), shown so support can tell what happened. */
export function connectPage(title: string, message: string, code?: string): string {
  const codeLine = code
    ? `<p class="code" data-code="${escapeHtml(code)}">Error code: <code>${escapeHtml(code)}</code></p>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)} · tether</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem;color:#1d2330}
h1{font-size:1.4rem}p{color:#3d4556}.code{font-size:.85rem;color:#6b7385}</style></head>
<body><main><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>${codeLine}</main></body></html>`;
}

/** Metadata fields that name an account for a person, in the order they are preferred. */
const LABEL_FIELDS = ['email', 'workspaceName', 'teamName', 'accountName', 'username'] as const;

/**
 * How the success page names the account that was connected: its email, workspace or team name
 * where the provider told one, else Xero's first organisation, else the provider's account id.
 */
export function accountLabel(metadata: Record<string, unknown>, providerAccountId: string): string {
  for (const field of LABEL_FIELDS) {
    const value = metadata[field];
    if (typeof value === 'string' && value !== '') return value;
  }
  const tenants = metadata.tenants;
  if (Array.isArray(tenants)) {
    const name = (tenants[0] as { tenantName?: unknown } | undefined)?.tenantName;
    if (typeof name === 'string' && name !== '') return name;
  }
  return providerAccountId;
}
