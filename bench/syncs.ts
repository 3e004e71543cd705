import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { loadConfig } from '../src/config.ts';
import { startTether } from '../src/runtime.ts';
import { SandboxControl } from '../src/sandbox/index.ts';
import { getRun, type SyncRunRow } from '../src/syncs/run-store.ts';
import { createPostgresDatabase, dropPostgresDatabase } from '../test/harness/database.ts';
import {
  connectOverHttp,
  freePort,
  type RecordItem,
  readRecordsInto,
  spawnSandbox,
} from '../test/harness/sandbox-process.ts';
import { type Backend, backends, machine, printTable } from './harness.ts';

// npm run bench:syncs — the Gmail sync against the sandbox running alone (`tether sandbox`, its
// own process, so the figures are tether's): a full sync of a 100,000-message mailbox (records/s,
// tether's peak RSS), an incremental sync of 1,000 changes (wall time), and reading all records
// back through the records API over HTTP (records/s). Each backend runs in a fresh child process
// holding one tether, so the peak RSS is that tether's alone; PostgreSQL (DATABASE_URL) last.
// BENCH_SYNC_RECORDS sizes a smaller mailbox for a quick try.

const RECORDS = Number(process.env.BENCH_SYNC_RECORDS ?? 100_000);
const CHANGES = { added: 400, updated: 400, deleted: 200 };
const TARGETS = {
  recordsPerSecond: 5000,
  peakRssMb: 300,
  incremental1000Ms: 2000,
  readRecordsPerSecond: 20_000,
};

interface Result {
  bench: 'syncs';
  backend: Backend;
  records: number;
  recordsPerSecond: number;
  peakRssMb: number;
  /** RSS once started, before the first sync (shown in the table). */
  startRssMb: number;
  incremental1000Ms: number;
  readRecordsPerSecond: number;
}

async function waitForRun(db: Parameters<typeof getRun>[0], id: string): Promise<SyncRunRow> {
  for (;;) {
    const run = await getRun(db, id);
    if (run && run.status !== 'running') return run;
    await sleep(100);
  }
}

/** One backend, in this (child) process: one tether, its sandbox integrations at SANDBOX_URL. */
async function measure(backend: Backend, sandboxUrl: string): Promise<Result> {
  const serverUrl = process.env.DATABASE_URL;
  const databaseUrl =
    backend === 'postgres' && serverUrl ? await createPostgresDatabase(serverUrl) : undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'tether-bench-syncs-'));
  const apiKey = `tk_bench_${randomBytes(12).toString('hex')}`;
  const config = loadConfig({
    PORT: String(await freePort()),
    TETHER_API_KEY: apiKey,
    TETHER_ENCRYPTION_KEYS: randomBytes(32).toString('base64'),
    TETHER_SANDBOX_URL: sandboxUrl,
    TETHER_DATA_DIR: dataDir,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  });
  const tether = await startTether(config, {
    logger: pino({ level: 'warn' }),
    jobPollingIntervalSeconds: 0.5,
  });
  try {
    const control = new SandboxControl(sandboxUrl);
    const ada = (await control.accounts()).google[0]!;
    const seed = `bench-${backend}-${randomBytes(4).toString('hex')}`;
    await control.sizeDataset('google', 'messages', { account: ada.sub, count: RECORDS, seed });
    const connectionId = await connectOverHttp(tether.url, apiKey, control, {
      integration: 'sandbox-gmail',
      endUserId: `bench-${backend}`,
    });
    const db = tether.database.db;
    // What tether holds before syncing anything: the peak is to be read against it.
    const startRssMb = process.memoryUsage().rss / 2 ** 20;

    const fullStart = performance.now();
    const full = await waitForRun(
      db,
      (await tether.syncs.startRun({ connectionId, syncName: 'gmail-messages', trigger: 'bench' })).id,
    );
    const fullMs = performance.now() - fullStart;
    if (full.status !== 'succeeded' || full.imported !== RECORDS)
      throw new Error(
        `the full sync ended ${full.status} with ${full.imported} records: ${JSON.stringify(full.error)}`,
      );
    const peakRssMb = process.resourceUsage().maxRSS / 1024;

    await control.changeDataset('google', 'messages', { account: ada.sub, ...CHANGES, seed: 'changes' });
    const incrementalStart = performance.now();
    const incremental = await waitForRun(
      db,
      (await tether.syncs.startRun({ connectionId, syncName: 'gmail-messages', trigger: 'bench' })).id,
    );
    const incrementalMs = performance.now() - incrementalStart;
    // Changes of one request can touch one message twice (added, then updated): about 1,000 seen.
    const seen = incremental.imported + incremental.updated + incremental.unchanged + incremental.deleted;
    if (incremental.status !== 'succeeded' || seen < 900)
      throw new Error(`the incremental sync ended ${incremental.status}: ${JSON.stringify(incremental)}`);

    const records = new Map<string, RecordItem>();
    const readStart = performance.now();
    await readRecordsInto(tether.url, apiKey, `connections/${connectionId}/records/messages`, records);
    const readMs = performance.now() - readStart;
    if (records.size < RECORDS) throw new Error(`read ${records.size} records, fewer than ${RECORDS}`);

    return {
      bench: 'syncs',
      backend,
      records: RECORDS,
      recordsPerSecond: Math.round(RECORDS / (fullMs / 1000)),
      peakRssMb: Math.round(peakRssMb),
      startRssMb: Math.round(startRssMb),
      incremental1000Ms: Math.round(incrementalMs),
      readRecordsPerSecond: Math.round(records.size / (readMs / 1000)),
    };
  } finally {
    await tether.stop();
    rmSync(dataDir, { recursive: true, force: true });
    if (databaseUrl && serverUrl) await dropPostgresDatabase(serverUrl, databaseUrl);
  }
}

function runChild(backend: Backend, sandboxUrl: string): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      // With the flag and the loader hook `tether serve` starts with (bin/tether.js, src/main.ts),
      // so the RSS is a server's.
      [
        '--optimize-for-size',
        '--import',
        new URL('../src/package-scope-cache.ts', import.meta.url).href,
        new URL(import.meta.url).pathname,
        'measure',
        backend,
        sandboxUrl,
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.on('exit', (code) => {
      const line = output.split('\n').find((l) => l.startsWith('{"bench":"syncs"'));
      if (code === 0 && line) resolve(JSON.parse(line));
      else reject(new Error(`the ${backend} run failed (exit ${code}):\n${output}`));
    });
  });
}

async function main(): Promise<void> {
  const [mode, backend, sandboxUrl] = process.argv.slice(2);
  if (mode === 'measure') {
    console.log(JSON.stringify(await measure(backend as Backend, sandboxUrl!)));
    process.exit(0);
  }
  console.log(
    `bench:syncs on ${machine()}, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  if (!process.env.DATABASE_URL) console.log('PostgreSQL skipped: DATABASE_URL is not set.');
  const sandboxDir = mkdtempSync(join(tmpdir(), 'tether-bench-sandbox-'));
  const sandbox = await spawnSandbox(sandboxDir);
  const results: Result[] = [];
  try {
    for (const b of backends()) results.push(await runChild(b, sandbox.sandboxUrl));
  } finally {
    await sandbox.stop();
    rmSync(sandboxDir, { recursive: true, force: true });
  }
  printTable(
    `Gmail sync of ${RECORDS.toLocaleString('en')} messages (targets on PostgreSQL: ≥ ${TARGETS.recordsPerSecond} records/s, < ${TARGETS.peakRssMb} MB, incremental < ${TARGETS.incremental1000Ms} ms, reading ≥ ${TARGETS.readRecordsPerSecond} records/s)`,
    results.map((r) => ({
      backend: r.backend,
      'full sync records/s': r.recordsPerSecond,
      'peak RSS MB': r.peakRssMb,
      'RSS after start MB': r.startRssMb,
      'incremental 1,000 changes ms': r.incremental1000Ms,
      'read records/s': r.readRecordsPerSecond,
    })),
  );
  console.log(
    `load average after: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  for (const { startRssMb: _, ...r } of results) console.log(JSON.stringify(r));
}

await main();
