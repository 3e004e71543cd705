import { describe, expect, it } from 'vitest';
import { accountLabel, connectPage } from './connect-page.ts';

describe('connect result pages', () => {
  it('name the account connected: email, workspace, team, organisation, else the account id', () => {
    expect(accountLabel({ email: 'ada@example.com' }, 'g-1')).toBe('ada@example.com');
    expect(accountLabel({ workspaceName: 'Acme', workspaceId: 'w' }, 'n-1')).toBe('Acme');
    expect(accountLabel({ teamName: 'Eng' }, 's-1')).toBe('Eng');
    expect(accountLabel({ tenants: [{ tenantName: 'Demo Co' }] }, 'x-1')).toBe('Demo Co');
    expect(accountLabel({ email: null, openId: 'o' }, 'tt-1')).toBe('tt-1');
  });

  it('escape what the provider controls', () => {
    const html = connectPage('Connected to Google', 'Your Google account <b>x</b>@example.com is connected.');
    expect(html).not.toContain('<b>x</b>');
    expect(html).toContain('&lt;b&gt;x&lt;/b&gt;');
  });
});
