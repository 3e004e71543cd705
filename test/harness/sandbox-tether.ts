import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { type ConnectionRow, connections } from '../../src/db/schema.ts';
import type { SandboxControl } from '../../src/sandbox/index.ts';
import type { SandboxState } from '../../src/sandbox/state.ts';
import { connectThroughSandbox, createSandboxIntegration, startSandbox } from './sandbox-connect.ts';
import { startTestTether, type TestTether } from './tether.ts';

type IntegrationInput = Parameters<typeof createSandboxIntegration>[2];

export interface SandboxTether {
  /** The tether under test (set once the file's beforeAll has run). */
  readonly t: TestTether;
  readonly control: SandboxControl;
  /** The standalone sandbox's state (its generated datasets, to compare copies with). */
  readonly sandboxState: SandboxState;
  /** Connects a new end user of `integration` through the sandbox's consent page; the connection id. */
  connect(integration: string): Promise<string>;
  /** The connection's row as stored. */
  row(id: string): Promise<ConnectionRow>;
}

/**
 * One test file's tether beside a standalone sandbox: the integrations are created once, and
 * every test starts with no faults and zeroed call counts.
 */
export function useSandboxTether(
  integrations: IntegrationInput[],
  options: { endUserPrefix: string; env?: Record<string, string> },
): SandboxTether {
  let sandbox: Awaited<ReturnType<typeof startSandbox>> | undefined;
  let tether: TestTether | undefined;
  let user = 0;
  beforeAll(async () => {
    sandbox = await startSandbox();
    tether = await startTestTether(options.env ? { env: options.env } : {});
    for (const integration of integrations)
      await createSandboxIntegration(tether, sandbox.server.url, integration);
  });
  afterAll(async () => {
    await tether?.close();
    await sandbox?.close();
  });
  beforeEach(async () => {
    await sandbox!.control.clearFaults();
    await sandbox!.control.resetCalls();
  });
  return {
    get t() {
      return tether!;
    },
    get control() {
      return sandbox!.control;
    },
    get sandboxState() {
      return sandbox!.server.state;
    },
    async connect(integration) {
      const endUserId = `${options.endUserPrefix}-${++user}`;
      const result = await connectThroughSandbox(tether!, sandbox!.control, { integration, endUserId });
      expect(result.status, result.body).toBe(200);
      return result.connectionId!;
    },
    async row(id) {
      return (await tether!.database.db.select().from(connections).where(eq(connections.id, id)))[0]!;
    },
  };
}
