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
