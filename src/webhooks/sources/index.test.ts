import { describe, expect, it } from 'vitest';
import { IntegrationFields } from '../../integrations/integration-schema.ts';
import { WEBHOOK_SOURCES as SANDBOX_SENDERS } from '../../sandbox/webhooks/index.ts';
import { FOLLOW_UP_QUEUES, WEBHOOK_SOURCE_DEFINITIONS, WEBHOOK_SOURCES } from './index.ts';

// The checklist for adding a webhook source, enforced: a definition without its sandbox sender,
// or whose body fields collide with another source's, fails here.

describe('webhook source definitions', () => {
  it('each have a sandbox sender, and every sender a definition', () => {
    expect([...WEBHOOK_SOURCES].sort()).toEqual([...SANDBOX_SENDERS].sort());
  });

  it('have distinct names', () => {
    expect(new Set(WEBHOOK_SOURCES).size).toBe(WEBHOOK_SOURCES.length);
  });

  it('own distinct body fields, none of them a shared integration field', () => {
    const owned = WEBHOOK_SOURCE_DEFINITIONS.flatMap((source) => Object.keys(source.body));
    expect(new Set(owned).size).toBe(owned.length);
    const shared = Object.keys(IntegrationFields.shape).filter((field) => !owned.includes(field));
    expect(shared).toContain('webhookSecrets');
    for (const field of owned) expect(Object.keys(IntegrationFields.shape)).toContain(field);
  });

  it('require only fields the integration body has', () => {
    for (const source of WEBHOOK_SOURCE_DEFINITIONS) {
      for (const { field } of source.requires) {
        expect(Object.keys(IntegrationFields.shape), source.name).toContain(field);
      }
    }
  });

  it('name at least one effect type each, and create every follow-up queue once', () => {
    for (const { name, effect } of WEBHOOK_SOURCE_DEFINITIONS) {
      expect(effect.types.length, name).toBeGreaterThan(0);
    }
    const queues = FOLLOW_UP_QUEUES.map((queue) => queue.name);
    expect(new Set(queues).size).toBe(queues.length);
  });
});
