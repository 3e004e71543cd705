import { describe, expect, it } from 'vitest';
import { clearBrowserBinding, newBrowserBinding, readBrowserBinding } from './connect-cookie.ts';

describe('the connect flow’s browser binding cookie', () => {
  it('is Secure when tether is served over https, and scoped under the public URL’s path', () => {
    const { value, header } = newBrowserBinding('https://auth.example.com/tether', 'cs_1', 599.2);
    expect(header).toBe(
      `tether_connect_cs_1=${value}; Path=/tether/oauth/callback; Max-Age=600; HttpOnly; SameSite=Lax; Secure`,
    );
    expect(clearBrowserBinding('https://auth.example.com/tether', 'cs_1')).toContain('Max-Age=0;');
  });

  it('reads only the named session’s value from a Cookie header', () => {
    const header = 'theme=dark; tether_connect_cs_2=two; tether_connect_cs_1=one';
    expect(readBrowserBinding(header, 'cs_1')).toBe('one');
    expect(readBrowserBinding(header, 'cs_3')).toBeUndefined();
    expect(readBrowserBinding(undefined, 'cs_1')).toBeUndefined();
    expect(readBrowserBinding('tether_connect_cs_1=', 'cs_1')).toBeUndefined();
  });

  it('gives every browser a different value', () => {
    expect(newBrowserBinding('http://x', 'cs', 60).value).not.toBe(
      newBrowserBinding('http://x', 'cs', 60).value,
    );
  });
});
