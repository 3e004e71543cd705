import { makeRandom, UPPER_ALNUM } from './webhooks/random.ts';

// The people, organisations and workspaces each simulated provider knows. Every id derives from
// the sandbox seed: the same seed gives the same ids, so tests and demos can name accounts.

export interface GoogleUser {
  sub: string;
  email: string;
  name: string;
  givenName: string;
  familyName: string;
}
export interface XeroTenant {
  connectionId: string;
  tenantId: string;
  tenantName: string;
  countryCode: string;
  baseCurrency: string;
}
export interface XeroUser {
  id: string;
  email: string;
  name: string;
  tenants: XeroTenant[];
}
export interface DocusignUser {
  sub: string;
  email: string;
  name: string;
  accounts: { accountId: string; accountName: string; isDefault: boolean }[];
}
export interface NotionUser {
  id: string;
  email: string;
  name: string;
  workspace: { id: string; name: string; icon: string };
}
export interface InstagramUser {
  /** The Instagram professional account id (`user_id`). */
  userId: string;
  /** The app-scoped id (`id`). */
  id: string;
  username: string;
  name: string;
}
export interface TiktokUser {
  openId: string;
  unionId: string;
  displayName: string;
  username: string;
}
export interface SlackWorkspace {
  team: { id: string; name: string; domain: string };
  appId: string;
  botUserId: string;
  users: { id: string; email: string; name: string }[];
  channels: { id: string; name: string }[];
}
export interface GenericUser {
  sub: string;
  email: string;
  name: string;
}

export interface SeededAccounts {
  google: GoogleUser[];
  xero: XeroUser[];
  docusign: DocusignUser[];
  notion: NotionUser[];
  instagram: InstagramUser[];
  tiktok: TiktokUser[];
  slack: SlackWorkspace;
  oauth2: GenericUser[];
}

/** One line of an authorize page's account chooser. */
export interface AccountChoice {
  id: string;
  label: string;
}

const PEOPLE = [
  { given: 'Ada', family: 'Lovelace', handle: 'ada' },
  { given: 'Grace', family: 'Hopper', handle: 'grace' },
] as const;

const XERO_ORGS = [
  { tenantName: 'Demo Company (UK)', countryCode: 'GB', baseCurrency: 'GBP' },
  { tenantName: 'Demo Company (NZ)', countryCode: 'NZ', baseCurrency: 'NZD' },
  { tenantName: 'Demo Company (US)', countryCode: 'US', baseCurrency: 'USD' },
];

export function makeSeededAccounts(seed: string): SeededAccounts {
  const rnd = (provider: string) => makeRandom(`${seed}:accounts:${provider}`);
  const email = (handle: string) => `${handle}@example.com`;
  const google = rnd('google');
  const xero = rnd('xero');
  const docusign = rnd('docusign');
  const notion = rnd('notion');
  const instagram = rnd('instagram');
  const tiktok = rnd('tiktok');
  const slack = rnd('slack');
  const generic = rnd('oauth2');

  return {
    google: PEOPLE.map((p) => ({
      sub: google.digits(21),
      email: email(p.handle),
      name: `${p.given} ${p.family}`,
      givenName: p.given,
      familyName: p.family,
    })),
    xero: PEOPLE.map((p, i) => ({
      id: xero.uuid(),
      email: email(p.handle),
      name: `${p.given} ${p.family}`,
      tenants: (i === 0 ? XERO_ORGS.slice(0, 2) : XERO_ORGS.slice(2)).map((org) => ({
        connectionId: xero.uuid(),
        tenantId: xero.uuid(),
        ...org,
      })),
    })),
    docusign: PEOPLE.map((p) => ({
      sub: docusign.uuid(),
      email: email(p.handle),
      name: `${p.given} ${p.family}`,
      accounts: [
        { accountId: docusign.uuid(), accountName: `${p.family} Consulting`, isDefault: false },
        { accountId: docusign.uuid(), accountName: `${p.family} & Co`, isDefault: true },
      ],
    })),
    notion: PEOPLE.map((p) => ({
      id: notion.uuid(),
      email: email(p.handle),
      name: `${p.given} ${p.family}`,
      workspace: { id: notion.uuid(), name: `${p.given}'s Notion`, icon: '📓' },
    })),
    instagram: PEOPLE.map((p) => ({
      userId: `1784${instagram.digits(13)}`,
      id: instagram.digits(17),
      username: `${p.handle}.${p.family.toLowerCase()}`,
      name: `${p.given} ${p.family}`,
    })),
    tiktok: PEOPLE.map((p) => ({
      openId: `-000${tiktok.chars(28, `${UPPER_ALNUM}abcdefghijklmnopqrstuvwxyz-_`)}`,
      unionId: tiktok.uuid(),
      displayName: `${p.given} ${p.family}`,
      username: `${p.handle}_${p.family.toLowerCase()}`,
    })),
    slack: {
      team: { id: `T${slack.chars(10, UPPER_ALNUM)}`, name: 'Sandbox Team', domain: 'sandbox-team' },
      appId: `A${slack.chars(10, UPPER_ALNUM)}`,
      botUserId: `U${slack.chars(10, UPPER_ALNUM)}`,
      users: PEOPLE.map((p) => ({
        id: `U${slack.chars(10, UPPER_ALNUM)}`,
        email: email(p.handle),
        name: p.handle,
      })),
      channels: ['general', 'alerts'].map((name) => ({ id: `C${slack.chars(10, UPPER_ALNUM)}`, name })),
    },
    oauth2: PEOPLE.map((p) => ({
      sub: generic.uuid(),
      email: email(p.handle),
      name: `${p.given} ${p.family}`,
    })),
  };
}
