import { randomBytes } from 'node:crypto';

// Token and code strings: random from the operating system, recognisable by a provider prefix
// ('ya29.' for a Google access token, 'xoxb-' for a Slack bot token...).

export function randomToken(prefix: string, bytes = 32): string {
  return `${prefix}${randomBytes(bytes).toString('base64url')}`;
}

/** A hex id such as TikTok's and Notion's request and log ids. */
export function randomHex(bytes = 16): string {
  return randomBytes(bytes).toString('hex');
}
