import { docusign } from './docusign.ts';
import { google } from './google.ts';
import { instagram } from './instagram.ts';
import { notion } from './notion.ts';
import { oauth2 } from './oauth2.ts';
import type { SandboxProviderModule } from './provider.ts';
import { slack } from './slack.ts';
import { tiktok } from './tiktok.ts';
import { xero } from './xero.ts';

/** Every simulated provider, in the order they are mounted. */
export const SANDBOX_PROVIDER_MODULES: readonly SandboxProviderModule[] = [
  google,
  xero,
  docusign,
  notion,
  instagram,
  tiktok,
  slack,
  oauth2,
];
