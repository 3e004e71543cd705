/** What earlier versions seeded and published: a database still holding one gets a new secret. */
export const PUBLISHED_SANDBOX_SECRETS: readonly string[] = [
  'whsec_tether_sandbox_stripe',
  'tether-sandbox-docusign-connect-key',
  'WH-TETHER-SANDBOX',
];
