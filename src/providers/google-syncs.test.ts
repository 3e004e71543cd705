import { describe, expect, it } from 'vitest';
import { syncsOf } from '../syncs/registry.ts';

// Which syncs a Google connection offers follows the scopes its integration asks for: each API's
// sync needs one of that API's scopes (its readonly one is enough).

const scope = (name: string) => `https://www.googleapis.com/auth/${name}`;
const names = (provider: string, scopes?: string[]) =>
  syncsOf(provider, scopes)
    .map((s) => s.name)
    .sort();

describe('Google syncs by scope', () => {
  it('offers each API’s sync on the generic google provider only with one of that API’s scopes', () => {
    expect(names('google', ['openid', 'email', 'profile'])).toEqual([]);
    expect(names('google', ['openid', scope('gmail.readonly')])).toEqual(['gmail-messages']);
    expect(names('google', ['openid', scope('calendar.readonly')])).toEqual(['calendar-events']);
    expect(names('google', ['openid', scope('calendar.events')])).toEqual(['calendar-events']);
    expect(names('google', ['openid', scope('drive.metadata.readonly')])).toEqual(['drive-files']);
    expect(names('google', ['openid', scope('youtube.readonly')])).toEqual(['youtube-stats']);
    expect(
      names('google', [
        scope('gmail.readonly'),
        scope('calendar.readonly'),
        scope('drive.readonly'),
        scope('youtube.readonly'),
      ]),
    ).toEqual(['calendar-events', 'drive-files', 'gmail-messages', 'youtube-stats']);
  });

  it('offers the scoped providers’ own sync with their default scopes, and not without them', () => {
    expect(names('gmail')).toEqual(['gmail-messages']);
    expect(names('google-calendar')).toEqual(['calendar-events']);
    expect(names('google-drive')).toEqual(['drive-files']);
    expect(names('youtube')).toEqual(['youtube-stats']);
    // A Calendar integration that asks only for the user's identity offers nothing.
    expect(names('google-calendar', ['openid', 'email'])).toEqual([]);
    expect(names('youtube', ['openid', scope('drive.readonly')])).toEqual([]);
  });

  it('gives every Google sync the model names of the issue', () => {
    const models = Object.fromEntries(
      syncsOf('google', [scope('gmail.readonly'), scope('calendar'), scope('drive'), scope('youtube')]).map(
        (s) => [s.name, s.models.map((m) => m.name)],
      ),
    );
    expect(models).toEqual({
      'gmail-messages': ['messages'],
      'calendar-events': ['events'],
      'drive-files': ['files'],
      'youtube-stats': ['channels', 'videos'],
    });
  });
});
