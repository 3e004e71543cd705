import { escapeHtml } from '../../http/html.ts';
import type { AccountChoice } from '../seed.ts';

// The HTML a person sees at a provider's authorize URL: who asks, for what, as which account,
// and two buttons. The form posts every authorize parameter back as hidden fields, so the
// decision needs no server-side session.

export interface ConsentPage {
  brand: string;
  clientName: string;
  scopes: string[];
  action: string;
  hidden: Record<string, string>;
  choices: AccountChoice[];
}

export function renderConsentPage(page: ConsentPage): string {
  const hidden = Object.entries(page.hidden)
    .map(
      ([name, value]) => `    <input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`,
    )
    .join('\n');
  const choices = page.choices
    .map(
      (choice, i) =>
        `      <label><input type="radio" name="account" value="${escapeHtml(choice.id)}"${i === 0 ? ' checked' : ''}> ${escapeHtml(choice.label)}</label>`,
    )
    .join('\n');
  const scopes = page.scopes.length
    ? page.scopes.map((scope) => `<li>${escapeHtml(scope)}</li>`).join('')
    : '<li>basic access</li>';
  return layout(
    `${page.brand} (sandbox)`,
    `  <h1>${escapeHtml(page.brand)}</h1>
  <p><strong>${escapeHtml(page.clientName)}</strong> wants to access your account:</p>
  <ul>${scopes}</ul>
  <form method="post" action="${escapeHtml(page.action)}">
${hidden}
    <fieldset>
      <legend>Choose an account</legend>
${choices}
    </fieldset>
    <button type="submit" name="decision" value="approve">Approve</button>
    <button type="submit" name="decision" value="deny">Deny</button>
  </form>`,
  );
}

export function renderErrorPage(brand: string, error: string, message: string): string {
  return layout(
    `${brand} (sandbox): ${error}`,
    `  <h1>${escapeHtml(brand)}</h1>
  <p class="error">Error: <code>${escapeHtml(error)}</code></p>
  <p>${escapeHtml(message)}</p>`,
  );
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(title)}</title>
  <style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;line-height:1.5}
  fieldset{margin:1rem 0}.sandbox{background:#ffe8a3;color:#5c4200;border:1px solid #d9a800;border-radius:6px;padding:.4rem .7rem;font-weight:600;font-size:.9rem}label{display:block}button{margin-right:.5rem;padding:.4rem 1rem}.error{color:#b00}</style>
</head>
<body>
<p class="sandbox" role="note">SANDBOX · a simulated provider page from tether's sandbox: no real account is used and nothing leaves this machine</p>
${body}
</body>
</html>
`;
}
