import { makeTestDatabase, type TestDatabase } from '../../test/harness/database.ts';
import { runStatement, statement } from '../db/client.ts';
import { migrate } from '../db/migrate.ts';

// A migrated test database with one integration and connection rows to hang records on.

export async function makeSyncTestDatabase(): Promise<TestDatabase> {
  const t = await makeTestDatabase();
  await migrate(t.database);
  await runStatement(
    t.database.db,
    statement(`insert into integrations (key, provider) values ('test-gmail', 'gmail')`),
    [],
  );
  return t;
}

export async function insertConnection(t: TestDatabase, id: string): Promise<string> {
  await runStatement(
    t.database.db,
    statement(`insert into connections (id, integration_key, provider, end_user_id, provider_account_id, status)
      values ($1, 'test-gmail', 'gmail', $1, $1, 'connected')`),
    [id],
  );
  return id;
}
