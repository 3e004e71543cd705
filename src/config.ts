import { z } from 'zod';

/**
 * The only reader of process.env. Parsed once at start with zod; a bad value
 * becomes a ConfigError naming the variable, which main.ts prints as one line
 * and exits with code 2.
 */
export interface Config {
  readonly port: number;
  readonly host: string;
  /** PostgreSQL URL; undefined means the embedded PGlite default. */
  readonly databaseUrl: string | undefined;
  readonly dataDir: string;
  readonly apiKey: string | undefined;
  /** Raw 32-byte keys; the first seals, all open. Undefined: generated on the embedded default. */
  readonly encryptionKeys: readonly Buffer[] | undefined;
  readonly publicUrl: string;
  readonly sandbox: boolean;
  readonly production: boolean;
  readonly bodyLimitBytes: number;
  readonly logLevel: string;
  readonly shutdownTimeoutMs: number;
  /** Timeout of every call tether makes to a provider. */
  readonly providerTimeoutMs: number;
  /** How long a refresher holds a connection's refresh lease; a crashed one blocks no longer. */
  readonly refreshLeaseMs: number;
  /** Processing attempts of an inbound webhook before it is dead. */
  readonly webhookMaxAttempts: number;
  /** How long a request (headers and body) may take to arrive. */
  readonly requestTimeoutMs: number;
  /** How long an idle socket is kept open between two requests. */
  readonly keepAliveTimeoutMs: number;
  /** Most sockets open at once; more are refused at accept. */
  readonly maxConnections: number;
  /** Audit entries older than this many days are deleted. */
  readonly auditRetentionDays: number;
  /** Processed (and dead) inbound events older than this many days are deleted. */
  readonly eventRetentionDays: number;
  /** Origins a connect session's redirectUrl may point to; undefined: any (not allowed in production). */
  readonly allowedRedirectOrigins: readonly string[] | undefined;
  /**
   * A sandbox running elsewhere (`tether sandbox`): seed sandbox integrations against it instead of
   * mounting one (`sandbox` is then false). Refused with TETHER_SANDBOX=1 and in production.
   */
  readonly sandboxUrl: string | undefined;
  /** How long a sync run's worker holds it without committing a page; a dead worker's run resumes after it. */
  readonly syncLeaseMs: number;
  /** Entries of the in-process access-token cache; 0 turns it off. */
  readonly tokenCacheSize: number;
  /** The longest a cached token may be served without the database being asked, even if a notification is lost. */
  readonly tokenCacheMaxStalenessMs: number;
  /** Event subscriptions may point at loopback, private or link-local addresses in production. */
  readonly allowPrivateEventUrls: boolean;
  /** Dashboard sign-in besides the API key; undefined: the API key only. */
  readonly adminPassword: string | undefined;
}

export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, problem: string) {
    super(`${variable} ${problem}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

type Env = Record<string, string | undefined>;

const portNumber = z
  .string()
  .regex(/^\d+$/, 'must be a whole number from 0 to 65535')
  .transform(Number)
  .refine((n) => n <= 65535, 'must be a whole number from 0 to 65535');

const postgresUrl = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '';
  } catch {
    return false;
  }
}, 'must be a URL like postgres://user:password@host:5432/database');

const httpUrl = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}, 'must be an http(s) URL like https://tether.example.com');

const encryptionKeys = z.string().transform((value, ctx) => {
  const parts = value.split(',').map((part) => part.trim());
  const keys: Buffer[] = [];
  for (const [index, part] of parts.entries()) {
    const key = /^[A-Za-z0-9+/_-]+={0,2}$/.test(part) ? Buffer.from(part, 'base64') : Buffer.alloc(0);
    if (key.length !== 32) {
      // Never echo the value: it is a secret.
      ctx.addIssue({ code: 'custom', message: `key ${index + 1} is not 32 bytes of base64` });
      return z.NEVER;
    }
    keys.push(key);
  }
  return keys;
});

const originList = z.string().transform((value, ctx) => {
  const origins: string[] = [];
  for (const part of value
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    let url: URL | undefined;
    try {
      url = new URL(part);
    } catch {}
    if (
      !url ||
      (url.protocol !== 'http:' && url.protocol !== 'https:') ||
      url.origin !== part.replace(/\/+$/, '')
    ) {
      ctx.addIssue({
        code: 'custom',
        message: `must be comma-separated origins like https://app.example.com (got ${part})`,
      });
      return z.NEVER;
    }
    origins.push(url.origin);
  }
  return origins;
});

const flag = z.enum(['0', '1', 'true', 'false']).transform((v) => v === '1' || v === 'true');
const positiveInt = z.string().regex(/^\d+$/, 'must be a whole number').transform(Number);

const schema = z.object({
  PORT: portNumber.optional(),
  HOST: z.string().min(1).optional(),
  DATABASE_URL: postgresUrl.optional(),
  TETHER_DATA_DIR: z.string().min(1).optional(),
  TETHER_API_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  TETHER_ENCRYPTION_KEYS: encryptionKeys.optional(),
  TETHER_PUBLIC_URL: httpUrl.optional(),
  TETHER_SANDBOX: flag.optional(),
  TETHER_BODY_LIMIT_BYTES: positiveInt.refine((n) => n >= 1024, 'must be at least 1024').optional(),
  TETHER_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  TETHER_SHUTDOWN_TIMEOUT_MS: positiveInt.optional(),
  TETHER_PROVIDER_TIMEOUT_MS: positiveInt.refine((n) => n >= 100, 'must be at least 100').optional(),
  TETHER_WEBHOOK_MAX_ATTEMPTS: positiveInt
    .refine((n) => n >= 1 && n <= 100, 'must be from 1 to 100')
    .optional(),
  TETHER_REFRESH_LEASE_MS: positiveInt.refine((n) => n >= 500, 'must be at least 500').optional(),
  TETHER_REQUEST_TIMEOUT_MS: positiveInt.refine((n) => n >= 1000, 'must be at least 1000').optional(),
  TETHER_KEEP_ALIVE_TIMEOUT_MS: positiveInt.refine((n) => n >= 1000, 'must be at least 1000').optional(),
  TETHER_MAX_CONNECTIONS: positiveInt.refine((n) => n >= 1, 'must be at least 1').optional(),
  TETHER_AUDIT_RETENTION_DAYS: positiveInt.refine((n) => n >= 1, 'must be at least 1').optional(),
  TETHER_EVENT_RETENTION_DAYS: positiveInt.refine((n) => n >= 1, 'must be at least 1').optional(),
  TETHER_ALLOWED_REDIRECT_ORIGINS: originList.optional(),
  TETHER_SANDBOX_URL: httpUrl.optional(),
  TETHER_SYNC_LEASE_MS: positiveInt.refine((n) => n >= 1000, 'must be at least 1000').optional(),
  TETHER_TOKEN_CACHE_SIZE: positiveInt.optional(),
  TETHER_TOKEN_CACHE_MAX_STALENESS_MS: positiveInt.refine((n) => n >= 100, 'must be at least 100').optional(),
  TETHER_ALLOW_PRIVATE_EVENT_URLS: flag.optional(),
  TETHER_ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
  NODE_ENV: z.string().optional(),
});

export function loadConfig(env: Env = process.env): Config {
  // Empty strings count as unset, as shells and .env files often leave them.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0]);
    throw new ConfigError(variable, describeIssue(issue));
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  const databaseUrl = e.DATABASE_URL;
  // Generated secrets only make sense for one embedded instance: with a shared
  // PostgreSQL or in production, every instance must be given the same keys.
  if (production || databaseUrl) {
    const why = production
      ? 'when NODE_ENV=production'
      : 'when DATABASE_URL is set (instances must share it)';
    if (!e.TETHER_ENCRYPTION_KEYS) throw new ConfigError('TETHER_ENCRYPTION_KEYS', `is required ${why}`);
    if (!e.TETHER_API_KEY) throw new ConfigError('TETHER_API_KEY', `is required ${why}`);
  }
  const port = e.PORT ?? 3000;
  const host = e.HOST ?? '127.0.0.1';
  // The sandbox's control API has no key and its integrations accept webhooks
  // signed by the sandbox: on by default only for the one-process embedded demo.
  // A sandbox elsewhere (TETHER_SANDBOX_URL) takes the mounted one's place.
  const sandbox = e.TETHER_SANDBOX_URL ? false : (e.TETHER_SANDBOX ?? (!production && !databaseUrl));
  if (production && e.TETHER_SANDBOX) {
    throw new ConfigError('TETHER_SANDBOX', 'cannot be on when NODE_ENV=production');
  }
  if (production && e.TETHER_SANDBOX_URL) {
    throw new ConfigError('TETHER_SANDBOX_URL', 'cannot be set when NODE_ENV=production');
  }
  if (e.TETHER_SANDBOX_URL && e.TETHER_SANDBOX) {
    throw new ConfigError(
      'TETHER_SANDBOX_URL',
      'cannot be set with TETHER_SANDBOX=1: tether mounts its own sandbox or uses the one at TETHER_SANDBOX_URL, not both',
    );
  }
  const providerTimeoutMs = e.TETHER_PROVIDER_TIMEOUT_MS ?? 10_000;
  const refreshLeaseMs = e.TETHER_REFRESH_LEASE_MS ?? 30_000;
  if (refreshLeaseMs <= providerTimeoutMs) {
    throw new ConfigError('TETHER_REFRESH_LEASE_MS', 'must be longer than TETHER_PROVIDER_TIMEOUT_MS');
  }
  return Object.freeze({
    port,
    host,
    databaseUrl,
    dataDir: e.TETHER_DATA_DIR ?? '.tether',
    apiKey: e.TETHER_API_KEY,
    encryptionKeys: e.TETHER_ENCRYPTION_KEYS ? Object.freeze(e.TETHER_ENCRYPTION_KEYS) : undefined,
    publicUrl: (e.TETHER_PUBLIC_URL ?? `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`).replace(
      /\/+$/,
      '',
    ),
    sandbox,
    production,
    bodyLimitBytes: e.TETHER_BODY_LIMIT_BYTES ?? 1024 * 1024,
    logLevel: e.TETHER_LOG_LEVEL ?? 'info',
    shutdownTimeoutMs: e.TETHER_SHUTDOWN_TIMEOUT_MS ?? 10_000,
    providerTimeoutMs,
    refreshLeaseMs,
    webhookMaxAttempts: e.TETHER_WEBHOOK_MAX_ATTEMPTS ?? 8,
    requestTimeoutMs: e.TETHER_REQUEST_TIMEOUT_MS ?? 30_000,
    // Longer than the idle timeout of the load balancers in front (60 s on AWS's),
    // so they never reuse a socket tether is closing.
    keepAliveTimeoutMs: e.TETHER_KEEP_ALIVE_TIMEOUT_MS ?? 72_000,
    maxConnections: e.TETHER_MAX_CONNECTIONS ?? 1024,
    auditRetentionDays: e.TETHER_AUDIT_RETENTION_DAYS ?? 90,
    eventRetentionDays: e.TETHER_EVENT_RETENTION_DAYS ?? 30,
    allowedRedirectOrigins: e.TETHER_ALLOWED_REDIRECT_ORIGINS
      ? Object.freeze(e.TETHER_ALLOWED_REDIRECT_ORIGINS)
      : undefined,
    sandboxUrl: e.TETHER_SANDBOX_URL?.replace(/\/+$/, ''),
    syncLeaseMs: e.TETHER_SYNC_LEASE_MS ?? 120_000,
    tokenCacheSize: e.TETHER_TOKEN_CACHE_SIZE ?? 10_000,
    tokenCacheMaxStalenessMs: e.TETHER_TOKEN_CACHE_MAX_STALENESS_MS ?? 5_000,
    allowPrivateEventUrls: e.TETHER_ALLOW_PRIVATE_EVENT_URLS ?? false,
    adminPassword: e.TETHER_ADMIN_PASSWORD,
  });
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_value') return `must be one of: ${issue.values.join(', ')}`;
  if (issue.code === 'too_small') return issue.message.startsWith('must') ? issue.message : 'is too short';
  const message = issue.message;
  return message.startsWith('must') || message.startsWith('key') ? message : `is invalid: ${message}`;
}
