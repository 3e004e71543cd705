import { z } from 'zod';

// Token lifetimes and rotation per simulated provider, with each provider's real defaults.
// All of it can be changed at run time through the control API (for example to test Slack with
// token rotation on, Notion's legacy never-expiring tokens, or TikTok's 2-hour access tokens).

/**
 * - `none`: a refresh returns no new refresh token; the old one keeps working (Google).
 * - `single-use`: each refresh returns a new refresh token; the old one stops working after
 *   `rotationGraceSec` (Xero: 1800, others: 0).
 * - `reissue`: each refresh returns a new refresh token and the old one keeps working too.
 */
export const ROTATIONS = ['none', 'single-use', 'reissue'] as const;
export type Rotation = (typeof ROTATIONS)[number];

export interface ProviderSettings {
  /** Access token lifetime; null: never expires (no `expires_in` sent). */
  accessTokenTtlSec: number | null;
  /** Whether the code exchange hands out a refresh token at all. */
  refreshTokens: boolean;
  /** Refresh token lifetime from its issue; null: until revoked. */
  refreshTokenTtlSec: number | null;
  rotation: Rotation;
  rotationGraceSec: number;
  /** Authorization code lifetime. */
  codeTtlSec: number;
  /** Instagram: long-lived token lifetime, and the age a token must reach before it may be refreshed. */
  longLivedTtlSec: number;
  minRefreshAgeSec: number;
}

const DAY = 86_400;
const base: ProviderSettings = {
  accessTokenTtlSec: 3600,
  refreshTokens: true,
  refreshTokenTtlSec: null,
  rotation: 'single-use',
  rotationGraceSec: 0,
  codeTtlSec: 600,
  longLivedTtlSec: 60 * DAY,
  minRefreshAgeSec: DAY,
};

/** Each simulated provider's defaults; its keys are the simulator names (SANDBOX_PROVIDERS). */
export const DEFAULT_SETTINGS = {
  // Google answers expires_in 3599 for its one-hour tokens; refresh tokens never rotate.
  google: { ...base, accessTokenTtlSec: 3599, rotation: 'none' },
  xero: { ...base, accessTokenTtlSec: 1800, refreshTokenTtlSec: 60 * DAY, rotationGraceSec: 1800 },
  docusign: { ...base, accessTokenTtlSec: 28_800, refreshTokenTtlSec: 30 * DAY },
  // Notion's lifetime for refreshable tokens is not documented: one hour here, configurable.
  // Legacy integrations: { accessTokenTtlSec: null, refreshTokens: false }.
  notion: { ...base, accessTokenTtlSec: 3600 },
  // accessTokenTtlSec is the short-lived token; long-lived tokens use longLivedTtlSec.
  instagram: { ...base, accessTokenTtlSec: 3600, refreshTokens: false, rotation: 'none' },
  tiktok: { ...base, accessTokenTtlSec: 86_400, refreshTokenTtlSec: 365 * DAY },
  // Without token rotation Slack tokens never expire; rotation on: 12-hour tokens, single-use refresh.
  slack: { ...base, accessTokenTtlSec: null, refreshTokens: false, rotation: 'none' },
  oauth2: { ...base },
} satisfies Record<string, ProviderSettings>;

export type SandboxProvider = keyof typeof DEFAULT_SETTINGS;
export const SANDBOX_PROVIDERS = Object.keys(DEFAULT_SETTINGS) as readonly SandboxProvider[];

const seconds = z.number().int().min(0);
export const providerSettingsPatch = z
  .object({
    accessTokenTtlSec: seconds.nullable(),
    refreshTokens: z.boolean(),
    refreshTokenTtlSec: seconds.nullable(),
    rotation: z.enum(ROTATIONS),
    rotationGraceSec: seconds,
    codeTtlSec: seconds,
    longLivedTtlSec: seconds,
    minRefreshAgeSec: seconds,
  })
  .partial()
  .strict();
export type ProviderSettingsPatch = z.infer<typeof providerSettingsPatch>;

/** Slack's "token rotation" switch, as a settings patch. */
export function slackTokenRotation(on: boolean): ProviderSettingsPatch {
  return on
    ? { accessTokenTtlSec: 43_200, refreshTokens: true, rotation: 'single-use', rotationGraceSec: 0 }
    : { accessTokenTtlSec: null, refreshTokens: false, rotation: 'none' };
}

/** Notion's legacy integrations: tokens that never expire and `refresh_token: null`. */
export const NOTION_LEGACY: ProviderSettingsPatch = { accessTokenTtlSec: null, refreshTokens: false };

export function isSandboxProvider(value: string): value is SandboxProvider {
  return (SANDBOX_PROVIDERS as readonly string[]).includes(value);
}
