import type { ConnectionSync, SyncRun } from '../../../../packages/client/src/index.ts';
import { limitOption, numberFlag, type OperatorCommand, take } from '../command.ts';
import type { Output } from '../output.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const records = (run: SyncRun) =>
  run.counts.imported + run.counts.updated + run.counts.unchanged + run.counts.deleted;

const runColumns = [
  { header: 'id', value: (r: SyncRun) => r.id },
  { header: 'sync', value: (r: SyncRun) => r.sync },
  { header: 'status', value: (r: SyncRun) => r.status },
  { header: 'connection', value: (r: SyncRun) => r.connectionId },
  { header: 'imported', value: (r: SyncRun) => r.counts.imported },
  { header: 'updated', value: (r: SyncRun) => r.counts.updated },
  { header: 'deleted', value: (r: SyncRun) => r.counts.deleted },
  { header: 'failed', value: (r: SyncRun) => r.counts.failed },
  { header: 'started', value: (r: SyncRun) => r.startedAt },
  { header: 'finished', value: (r: SyncRun) => r.finishedAt },
];

function runDetails(run: SyncRun): [string, unknown][] {
  return [
    ['id', run.id],
    ['sync', run.sync],
    ['connection', run.connectionId],
    ['status', run.status],
    ['trigger', run.trigger],
    ['pages', run.pages],
    ...Object.entries(run.counts).map(([k, v]) => [k, v] as [string, unknown]),
    ['started', run.startedAt],
    ['finished', run.finishedAt],
    ['error', run.error ? `${run.error.code}: ${run.error.message}` : null],
  ];
}

/** One line of progress: a bar on a terminal (redrawn in place), a plain line otherwise. */
function progress(out: Output, interactive: boolean, run: SyncRun, done: boolean): void {
  const text = `${run.status.padEnd(9)} ${run.pages} pages, ${records(run)} records (${run.counts.imported} new, ${run.counts.updated} updated, ${run.counts.deleted} deleted, ${run.counts.failed} failed)`;
  if (!interactive) {
    out.line(text);
    return;
  }
  const spin = '|/-\\'[run.pages % 4];
  const width = 20;
  const filled = done ? width : run.pages % (width + 1);
  process.stdout.write(
    `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done ? ' ' : spin} ${text}\x1b[K`,
  );
  if (done) process.stdout.write('\n');
}

/** Polls the run until it ends, printing progress; exit 0 succeeded, 1 otherwise. */
async function follow(
  run: SyncRun,
  get: (id: string) => Promise<SyncRun>,
  out: Output,
  interactive: boolean,
) {
  let last = '';
  for (;;) {
    const done = run.status !== 'running';
    const key = `${run.status}:${run.pages}:${records(run)}`;
    if (!out.json && (key !== last || done)) progress(out, interactive, run, done);
    last = key;
    if (done) {
      if (out.json) out.record(run);
      return run.status === 'succeeded' ? 0 : 1;
    }
    await sleep(500);
    run = await get(run.id);
  }
}

export const syncCommands: OperatorCommand[] = [
  {
    words: ['syncs', 'list'],
    summary: 'the syncs a connection offers, their settings and last run',
    args: ['connection'],
    async run({ client, out, args }) {
      out.table(await client.syncs.list(args.connection!), [
        { header: 'sync', value: (s: ConnectionSync) => s.name },
        { header: 'models', value: (s: ConnectionSync) => s.models.join(',') },
        { header: 'enabled', value: (s: ConnectionSync) => s.enabled },
        { header: 'frequency', value: (s: ConnectionSync) => s.frequency },
        { header: 'last run', value: (s: ConnectionSync) => s.lastRun?.status },
        { header: 'next run', value: (s: ConnectionSync) => s.nextRunAt },
      ]);
      return 0;
    },
  },
  {
    words: ['syncs', 'run'],
    summary: 'run a sync now and follow it to its end (--detach: start it and exit)',
    args: ['connection', 'sync'],
    options: { detach: { type: 'boolean', description: 'print the run and exit without waiting' } },
    async run({ client, out, args, flags, interactive }) {
      const run = await client.syncs.run(args.connection!, args.sync!);
      if (flags.detach) {
        out.record(run, runDetails(run));
        return 0;
      }
      return follow(run, (id) => client.syncRuns.get(id), out, interactive);
    },
  },
  {
    words: ['syncs', 'reset'],
    summary: 'forget the checkpoint: the next run is a full pass (records are kept)',
    args: ['connection', 'sync'],
    async run({ client, out, args }) {
      const run = await client.syncs.reset(args.connection!, args.sync!);
      out.record(run, runDetails(run));
      return 0;
    },
  },
  {
    words: ['sync-runs', 'list'],
    summary: 'sync runs, newest first',
    options: {
      connection: { type: 'string', description: 'only this connection' },
      status: { type: 'string', description: 'running | succeeded | partial | failed' },
      ...limitOption,
    },
    async run({ client, out, flags }) {
      const query = {
        connectionId: flags.connection as string | undefined,
        status: flags.status as SyncRun['status'] | undefined,
      };
      out.table(await take(client.syncRuns.list(query), numberFlag(flags.limit, 50, 'limit')), runColumns);
      return 0;
    },
  },
  {
    words: ['sync-runs', 'show'],
    summary: 'one sync run: counts, timings, error, a sample of its failed records',
    args: ['id'],
    async run({ client, out, args }) {
      const run = await client.syncRuns.get(args.id!);
      out.record(run, runDetails(run));
      const failed = (
        run as SyncRun & { failedRecords?: { model: string; id: string; error: { code: string } }[] }
      ).failedRecords;
      if (!out.json && failed?.length) {
        out.line('\nfailed records:');
        for (const f of failed) out.line(`  ${f.model} ${f.id}: ${f.error.code}`);
      }
      return 0;
    },
  },
];
