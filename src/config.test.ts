import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

const key = () => randomBytes(32).toString('base64');

function problemWith(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

describe('loadConfig', () => {
  it('starts from nothing on the embedded default', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      databaseUrl: undefined,
      dataDir: '.tether',
      sandbox: true,
    });
    expect(config.publicUrl).toBe('http://127.0.0.1:3000');
    expect(config.bodyLimitBytes).toBe(1024 * 1024);
  });

  it('reads every variable it knows', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      DATABASE_URL: 'postgres://u:p@db:5432/tether',
      TETHER_DATA_DIR: '/var/tether',
      TETHER_API_KEY: 'k'.repeat(32),
      TETHER_ENCRYPTION_KEYS: `${key()},${key()}`,
      TETHER_PUBLIC_URL: 'https://tether.example.com/',
      TETHER_SANDBOX: '0',
      TETHER_BODY_LIMIT_BYTES: '2048',
    });
    expect(config.port).toBe(8080);
    expect(config.encryptionKeys).toHaveLength(2);
    expect(config.publicUrl).toBe('https://tether.example.com');
    expect(config.sandbox).toBe(false);
  });

  const bad: [string, Record<string, string>][] = [
    ['PORT', { PORT: 'abc' }],
    ['PORT', { PORT: '70000' }],
    ['DATABASE_URL', { DATABASE_URL: 'not a url' }],
    ['DATABASE_URL', { DATABASE_URL: 'mysql://localhost/db' }],
    ['TETHER_API_KEY', { TETHER_API_KEY: 'short' }],
    ['TETHER_ENCRYPTION_KEYS', { TETHER_ENCRYPTION_KEYS: Buffer.alloc(16).toString('base64') }],
    ['TETHER_ENCRYPTION_KEYS', { TETHER_ENCRYPTION_KEYS: `${key()},not-base64!` }],
    ['TETHER_PUBLIC_URL', { TETHER_PUBLIC_URL: 'ftp://example.com' }],
    ['TETHER_SANDBOX', { TETHER_SANDBOX: 'maybe' }],
    ['TETHER_BODY_LIMIT_BYTES', { TETHER_BODY_LIMIT_BYTES: '1MB' }],
    ['TETHER_LOG_LEVEL', { TETHER_LOG_LEVEL: 'loud' }],
    ['TETHER_SHUTDOWN_TIMEOUT_MS', { TETHER_SHUTDOWN_TIMEOUT_MS: '-1' }],
    ['TETHER_PROVIDER_TIMEOUT_MS', { TETHER_PROVIDER_TIMEOUT_MS: '10' }],
    ['TETHER_REFRESH_LEASE_MS', { TETHER_REFRESH_LEASE_MS: 'x' }],
    ['TETHER_WEBHOOK_MAX_ATTEMPTS', { TETHER_WEBHOOK_MAX_ATTEMPTS: '0' }],
    ['TETHER_REFRESH_LEASE_MS', { TETHER_PROVIDER_TIMEOUT_MS: '5000', TETHER_REFRESH_LEASE_MS: '4000' }],
    ['TETHER_REQUEST_TIMEOUT_MS', { TETHER_REQUEST_TIMEOUT_MS: '10' }],
    ['TETHER_MAX_CONNECTIONS', { TETHER_MAX_CONNECTIONS: '0' }],
    ['TETHER_AUDIT_RETENTION_DAYS', { TETHER_AUDIT_RETENTION_DAYS: 'forever' }],
    ['TETHER_EVENT_RETENTION_DAYS', { TETHER_EVENT_RETENTION_DAYS: '0' }],
    ['TETHER_ALLOWED_REDIRECT_ORIGINS', { TETHER_ALLOWED_REDIRECT_ORIGINS: 'app.example.com' }],
    ['TETHER_ALLOWED_REDIRECT_ORIGINS', { TETHER_ALLOWED_REDIRECT_ORIGINS: 'https://app.example.com/path' }],
  ];

  it.each(bad)('names %s when its value is bad', (variable, env) => {
    expect(problemWith(env).variable).toBe(variable);
  });

  it('never echoes an encryption key in the message', () => {
    const secret = Buffer.alloc(16, 7).toString('base64');
    expect(problemWith({ TETHER_ENCRYPTION_KEYS: secret }).message).not.toContain(secret);
  });

  it('requires keys in production and with DATABASE_URL', () => {
    expect(problemWith({ NODE_ENV: 'production', TETHER_API_KEY: 'k'.repeat(20) }).variable).toBe(
      'TETHER_ENCRYPTION_KEYS',
    );
    expect(problemWith({ NODE_ENV: 'production', TETHER_ENCRYPTION_KEYS: key() }).variable).toBe(
      'TETHER_API_KEY',
    );
    expect(problemWith({ DATABASE_URL: 'postgres://localhost/x' }).variable).toBe('TETHER_ENCRYPTION_KEYS');
  });

  it('reads the limits, retention and redirect origins, with defaults', () => {
    expect(loadConfig({})).toMatchObject({
      requestTimeoutMs: 30_000,
      auditRetentionDays: 90,
      eventRetentionDays: 30,
      allowedRedirectOrigins: undefined,
    });
    const config = loadConfig({
      TETHER_REQUEST_TIMEOUT_MS: '5000',
      TETHER_MAX_CONNECTIONS: '50',
      TETHER_AUDIT_RETENTION_DAYS: '7',
      TETHER_EVENT_RETENTION_DAYS: '3',
      TETHER_ALLOWED_REDIRECT_ORIGINS: 'https://app.example.com, http://localhost:5173/',
    });
    expect(config).toMatchObject({
      requestTimeoutMs: 5000,
      maxConnections: 50,
      auditRetentionDays: 7,
      eventRetentionDays: 3,
      allowedRedirectOrigins: ['https://app.example.com', 'http://localhost:5173'],
    });
  });

  it('reads the sandbox URL, token cache, private event URLs and admin password, with defaults', () => {
    expect(loadConfig({})).toMatchObject({
      sandboxUrl: undefined,
      tokenCacheSize: 10_000,
      tokenCacheMaxStalenessMs: 5_000,
      allowPrivateEventUrls: false,
      adminPassword: undefined,
    });
    expect(
      loadConfig({
        TETHER_SANDBOX_URL: 'http://127.0.0.1:4000/',
        TETHER_TOKEN_CACHE_SIZE: '0',
        TETHER_TOKEN_CACHE_MAX_STALENESS_MS: '250',
        TETHER_ALLOW_PRIVATE_EVENT_URLS: '1',
        TETHER_ADMIN_PASSWORD: 'correct horse battery',
      }),
    ).toMatchObject({
      sandboxUrl: 'http://127.0.0.1:4000',
      tokenCacheSize: 0,
      tokenCacheMaxStalenessMs: 250,
      allowPrivateEventUrls: true,
      adminPassword: 'correct horse battery',
    });
    expect(problemWith({ TETHER_SANDBOX_URL: 'ftp://x' }).variable).toBe('TETHER_SANDBOX_URL');
    expect(problemWith({ TETHER_TOKEN_CACHE_SIZE: '-1' }).variable).toBe('TETHER_TOKEN_CACHE_SIZE');
    expect(problemWith({ TETHER_TOKEN_CACHE_MAX_STALENESS_MS: '10' }).variable).toBe(
      'TETHER_TOKEN_CACHE_MAX_STALENESS_MS',
    );
    expect(problemWith({ TETHER_ADMIN_PASSWORD: 'short' }).variable).toBe('TETHER_ADMIN_PASSWORD');
  });

  it('reads the keep-alive timeout and the connection cap, with defaults', () => {
    expect(loadConfig({})).toMatchObject({ keepAliveTimeoutMs: 72_000, maxConnections: 1024 });
    expect(loadConfig({ TETHER_KEEP_ALIVE_TIMEOUT_MS: '5000' }).keepAliveTimeoutMs).toBe(5000);
    expect(problemWith({ TETHER_KEEP_ALIVE_TIMEOUT_MS: '500' }).variable).toBe(
      'TETHER_KEEP_ALIVE_TIMEOUT_MS',
    );
    expect(problemWith({ TETHER_KEEP_ALIVE_TIMEOUT_MS: 'long' }).variable).toBe(
      'TETHER_KEEP_ALIVE_TIMEOUT_MS',
    );
  });

  it('has the sandbox on by default only on the embedded default', () => {
    const keys = { TETHER_API_KEY: 'k'.repeat(20), TETHER_ENCRYPTION_KEYS: key() };
    expect(loadConfig({}).sandbox).toBe(true);
    expect(loadConfig({ ...keys, DATABASE_URL: 'postgres://localhost/x' }).sandbox).toBe(false);
    expect(loadConfig({ ...keys, DATABASE_URL: 'postgres://localhost/x', TETHER_SANDBOX: '1' }).sandbox).toBe(
      true,
    );
  });

  it('uses the sandbox at TETHER_SANDBOX_URL instead of mounting one, never beside one, never in production', () => {
    const keys = { TETHER_API_KEY: 'k'.repeat(20), TETHER_ENCRYPTION_KEYS: key() };
    const elsewhere = { TETHER_SANDBOX_URL: 'http://127.0.0.1:4000/sandbox' };
    expect(loadConfig(elsewhere)).toMatchObject({ sandbox: false, sandboxUrl: elsewhere.TETHER_SANDBOX_URL });
    expect(loadConfig({ ...keys, ...elsewhere, DATABASE_URL: 'postgres://localhost/x' }).sandbox).toBe(false);
    expect(loadConfig({ ...elsewhere, TETHER_SANDBOX: '0' }).sandbox).toBe(false);
    expect(problemWith({ ...elsewhere, TETHER_SANDBOX: '1' }).variable).toBe('TETHER_SANDBOX_URL');
    expect(problemWith({ ...keys, ...elsewhere, NODE_ENV: 'production' }).variable).toBe(
      'TETHER_SANDBOX_URL',
    );
  });

  it('reads the sync lease, with a default', () => {
    expect(loadConfig({}).syncLeaseMs).toBe(120_000);
    expect(loadConfig({ TETHER_SYNC_LEASE_MS: '5000' }).syncLeaseMs).toBe(5000);
    expect(problemWith({ TETHER_SYNC_LEASE_MS: '10' }).variable).toBe('TETHER_SYNC_LEASE_MS');
  });

  it('turns the sandbox off in production and refuses to turn it on there', () => {
    const prod = { NODE_ENV: 'production', TETHER_API_KEY: 'k'.repeat(20), TETHER_ENCRYPTION_KEYS: key() };
    expect(loadConfig(prod).sandbox).toBe(false);
    expect(problemWith({ ...prod, TETHER_SANDBOX: '1' }).variable).toBe('TETHER_SANDBOX');
  });
});

describe('tether with bad configuration', () => {
  const cases: [string, string][] = [
    ['PORT', 'abc'],
    ['DATABASE_URL', 'nope'],
    ['TETHER_ENCRYPTION_KEYS', 'dG9vc2hvcnQ='],
    ['TETHER_API_KEY', 'short'],
    ['TETHER_PUBLIC_URL', 'nope'],
    ['TETHER_SANDBOX', 'maybe'],
    ['TETHER_BODY_LIMIT_BYTES', 'lots'],
    ['TETHER_LOG_LEVEL', 'loud'],
    ['TETHER_SHUTDOWN_TIMEOUT_MS', 'soon'],
  ];
  it.each(cases)('exits with code 2 and one line naming %s', (variable, value) => {
    const result = spawnSync(process.execPath, ['src/main.ts', 'serve'], {
      env: { PATH: process.env.PATH, [variable]: value },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(variable);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
