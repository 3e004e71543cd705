/**
 * Every column that holds a sealed secret, so `tether keys rotate` can find
 * them all. A module that adds a sealed column adds it here; the context is
 * the associated data it was sealed with (see crypto/seal.ts).
 */
export interface SealedColumn {
  table: string;
  idColumn: string;
  column: string;
  context: (id: string) => string;
}

export const sealedColumns: SealedColumn[] = [];
