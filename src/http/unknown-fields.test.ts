import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startTestTether, type TestTether } from '../../test/harness/tether.ts';
import { IntegrationInput } from '../integrations/integration-schema.ts';
import { findUnknownField } from './unknown-fields.ts';

describe('findUnknownField', () => {
  const schema = z
    .object({
      name: z.string(),
      nested: z.object({ a: z.number() }).optional(),
      list: z.array(z.object({ x: z.string() })).default([]),
      free: z.record(z.string(), z.unknown()).optional(),
      loose: z.looseObject({ y: z.string() }).optional(),
      either: z
        .union([z.object({ kind: z.literal('a'), a: z.string() }), z.object({ kind: z.literal('b') })])
        .optional(),
    })
    .refine(() => true);
  const find = (value: unknown) => findUnknownField(schema, value, []);

  it('finds nothing in a value made only of named fields, records and loose objects', () => {
    expect(
      find({
        name: 'n',
        nested: { a: 1 },
        list: [{ x: 'x' }],
        free: { anything: 1 },
        loose: { y: 'y', extra: 1 },
        either: { kind: 'a', a: 'a' },
      }),
    ).toBeUndefined();
  });

  it('names an unknown field at any depth, with its path and the fields accepted there', () => {
    expect(find({ name: 'n', Name: 'x' })).toEqual({
      path: [],
      field: 'Name',
      known: expect.arrayContaining(['name']),
    });
    expect(find({ name: 'n', nested: { a: 1, b: 2 } })).toMatchObject({ path: ['nested'], field: 'b' });
    expect(find({ name: 'n', list: [{ x: 'x' }, { x: 'x', z: 1 }] })).toMatchObject({
      path: ['list', '1'],
      field: 'z',
    });
  });

  it('judges a union by the option the value matches', () => {
    expect(find({ name: 'n', either: { kind: 'b' } })).toBeUndefined();
    expect(find({ name: 'n', either: { kind: 'b', a: 'only a has it' } })).toMatchObject({ field: 'a' });
  });

  it('sees through transforms and defaults', () => {
    const piped = z.object({ a: z.string() }).transform((v) => v.a);
    expect(findUnknownField(piped, { a: 'x', b: 'y' }, [])).toMatchObject({ field: 'b' });
    expect(
      findUnknownField(IntegrationInput, { key: 'k', provider: 'xero', clientID: 'x' }, []),
    ).toMatchObject({
      field: 'clientID',
    });
  });
});

describe('request bodies on /v1 refuse unknown fields', () => {
  let t: TestTether;
  beforeAll(async () => {
    t = await startTestTether({
      publicPlugins: [
        async (app) => {
          // Outside /v1 (the sandbox, webhooks) bodies keep zod's default: unknown keys dropped.
          app.post('/test/lenient', { schema: { body: z.object({ a: z.string() }) } }, async (request) => ({
            got: request.body,
          }));
        },
      ],
    });
    const created = await send('POST', '/v1/integrations', {
      key: 'xero-main',
      provider: 'xero',
      clientId: 'cid',
      clientSecret: 'secret',
    });
    expect(created.statusCode).toBe(201);
  });
  afterAll(() => t.close());

  const send = (method: 'POST' | 'PATCH', url: string, payload: object) =>
    t.app.inject({ method, url, headers: t.auth, payload });

  it('answers 400 validation_failed naming a mistyped field of a connect session', async () => {
    const res = await send('POST', '/v1/connect-sessions', {
      integration: 'xero-main',
      endUserId: 'user-1',
      redirectURL: 'https://app.example.com/done',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('validation_failed');
    expect(res.json().error.message).toContain('redirectURL');
  });

  it('answers 400 validation_failed naming an unknown field of an integration, nested ones too', async () => {
    const cases: [string, 'POST' | 'PATCH', string, object][] = [
      [
        'clientID',
        'POST',
        '/v1/integrations',
        { key: 'x2', provider: 'xero', clientID: 'c', clientSecret: 's' },
      ],
      [
        'pubsub.audiance',
        'POST',
        '/v1/integrations',
        { key: 'g', provider: 'gmail-pubsub', pubsub: { serviceAccountEmail: 'a@b.iam', audiance: 'x' } },
      ],
      ['scope', 'PATCH', '/v1/integrations/xero-main', { scope: ['openid'] }],
    ];
    for (const [field, method, url, payload] of cases) {
      const res = await send(method, url, payload);
      expect(res.statusCode, field).toBe(400);
      expect(res.json().error.code, field).toBe('validation_failed');
      expect(res.json().error.message, field).toContain(field);
    }
  });

  it('refuses an unknown field of a Slack message', async () => {
    const res = await send('POST', '/v1/connections/conn_nope/slack/messages', { text: 'hi', txt: 'typo' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('validation_failed');
    expect(res.json().error.message).toContain('txt');
  });

  it('still accepts bodies made of known fields, and free-form maps', async () => {
    const res = await send('PATCH', '/v1/integrations/xero-main', {
      scopes: ['offline_access'],
      extraAuthorizeParams: { prompt: 'consent', anything_goes: 'here' },
    });
    expect(res.statusCode).toBe(200);
  });

  it('leaves routes outside /v1 as they were', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/test/lenient', payload: { a: 'x', b: 'y' } });
    expect(res.json()).toEqual({ got: { a: 'x' } });
  });
});
