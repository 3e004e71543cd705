import type { Database } from '../db/client.ts';
import { type SealedColumn, sealedColumns } from '../db/sealed-columns.ts';
import type { Sealer } from './seal.ts';

/**
 * Re-seals every stored secret with the first (current) key, in batches.
 * Resumable by construction: each batch picks rows not yet sealed with the
 * current key, and each update is a compare-and-set on the old value, so a
 * concurrent writer's newer secret is never overwritten and a crash midway
 * loses nothing: running it again carries on.
 */
export interface RotationReport {
  resealed: number;
  byColumn: Record<string, number>;
}

export async function rotateKeys(
  database: Database,
  sealer: Sealer,
  options: { batchSize?: number; columns?: SealedColumn[] } = {},
): Promise<RotationReport> {
  const batchSize = options.batchSize ?? 500;
  const report: RotationReport = { resealed: 0, byColumn: {} };
  const currentPrefix = `tsv1.${sealer.currentKeyId}.`;
  for (const col of options.columns ?? sealedColumns) {
    const name = `${col.table}.${col.column}`;
    report.byColumn[name] = 0;
    const table = quoteIdent(col.table);
    const id = quoteIdent(col.idColumn);
    const column = quoteIdent(col.column);
    let lastId: string | null = null;
    for (;;) {
      const rows: { id: string; sealed: string }[] = await database.withSession((s) =>
        s.query(
          `select ${id}::text as id, ${column} as sealed from ${table}
           where ${column} is not null and left(${column}, $1) <> $2 and ($3::text is null or ${id}::text > $3)
           order by ${id}::text limit $4`,
          [currentPrefix.length, currentPrefix, lastId, batchSize],
        ),
      );
      if (rows.length === 0) break;
      await database.withSession((s) =>
        s.transaction(async (query) => {
          for (const row of rows) {
            const resealed = sealer.seal(sealer.open(row.sealed, col.context(row.id)), col.context(row.id));
            const updated = await query(
              `update ${table} set ${column} = $1 where ${id}::text = $2 and ${column} = $3 returning 1`,
              [resealed, row.id, row.sealed],
            );
            if (updated.length) report.byColumn[name]! += 1;
          }
        }),
      );
      lastId = rows.at(-1)!.id;
    }
    report.resealed += report.byColumn[name]!;
  }
  return report;
}

function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain identifier: ${name}`);
  return `"${name}"`;
}
