import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  basicAuth,
  get,
  type Loose,
  postForm,
  REDIRECT_URI,
  type SandboxFixture,
  startSandboxFixture,
  withQuery,
} from '../testing.ts';

const BASIC = { authorization: basicAuth('sandbox-docusign-client', 'sandbox-docusign-secret') };

describe('docusign envelopes sandbox', () => {
  let sb: SandboxFixture;
  let token: string;
  let accountId: string;
  beforeAll(async () => {
    sb = await startSandboxFixture('docusign-api-test');
  });
  afterAll(() => sb.server.close());
  beforeEach(async () => {
    await sb.control.reset();
    const consent = await sb.control.authorize(
      withQuery(sb.endpoints.docusign.authorizationUrl, {
        client_id: 'sandbox-docusign-client',
        redirect_uri: REDIRECT_URI,
        response_type: 'code',
        scope: 'signature',
        state: 'd1',
      }),
    );
    const tokens = await postForm(
      sb.endpoints.docusign.tokenUrl,
      { grant_type: 'authorization_code', code: consent.code!, redirect_uri: REDIRECT_URI },
      BASIC,
    );
    token = tokens.body.access_token;
    accountId = (await sb.control.accounts()).docusign[0]!.accounts.find((a) => a.isDefault)!.accountId;
  });
  const list = (query: Record<string, string>, account = accountId) =>
    get(withQuery(`${sb.endpoints.docusign.apiBaseUrl}/v2.1/accounts/${account}/envelopes`, query), {
      authorization: `Bearer ${token}`,
    });
  const size = (count: number, extra: Record<string, unknown> = {}) =>
    sb.control.sizeDataset('docusign', 'envelopes', { account: accountId, count, seed: 'e1', ...extra });

  it('requires from_date, and answers bad paging with INVALID_REQUEST_PARAMETER', async () => {
    const missing = await list({});
    expect(missing.status).toBe(400);
    expect(missing.body.errorCode).toBe('INVALID_REQUEST_PARAMETER');
    expect(missing.body.message).toContain('from_date');
    expect((await list({ from_date: 'yesterday' })).status).toBe(400);
    expect((await list({ from_date: '2020-01-01', count: '0' })).status).toBe(400);
    expect((await list({ from_date: '2020-01-01' }, 'not-mine')).body.errorCode).toBe(
      'USER_LACKS_MEMBERSHIP',
    );
  });

  it('pages status changes by start_position and count with string counts, nextUri, and no envelopes key when empty', async () => {
    await size(230);
    const first = await list({ from_date: '2020-01-01', order: 'asc', count: '100' });
    expect(first.body).toMatchObject({
      resultSetSize: '100',
      startPosition: '0',
      endPosition: '99',
      totalSetSize: '230',
    });
    expect(first.body.nextUri).toContain('start_position=100');
    const last = await list({ from_date: '2020-01-01', order: 'asc', start_position: '200' });
    expect(last.body).toMatchObject({ resultSetSize: '30', endPosition: '229', nextUri: '' });
    const envelope = first.body.envelopes[0];
    expect(envelope).toMatchObject({
      status: expect.stringMatching(/^(sent|delivered)$/),
      statusChangedDateTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/),
    });
    const times = first.body.envelopes.map((e: Loose) => e.statusChangedDateTime);
    expect(times).toEqual([...times].sort());
    const none = await list({ from_date: '2030-01-01' });
    expect(none.body).toMatchObject({ resultSetSize: '0', totalSetSize: '0' });
    expect(none.body.envelopes).toBeUndefined();
  });

  it('reports changes since from_date: moved-on envelopes and voided ones, newest first by default', async () => {
    await size(50);
    await sb.control.advanceClock(1000);
    const mark = new Date((await sb.control.clock()).now).toISOString();
    await sb.control.changeDataset('docusign', 'envelopes', {
      account: accountId,
      added: 2,
      updated: 3,
      deleted: 4,
      seed: 'c1',
    });
    const changed = await list({ from_date: mark });
    expect(changed.body.totalSetSize).toBe('9');
    const statuses = changed.body.envelopes.map((e: Loose) => e.status);
    expect(statuses.filter((s: string) => s === 'voided')).toHaveLength(4);
    const times = changed.body.envelopes.map((e: Loose) => e.statusChangedDateTime);
    expect(times).toEqual([...times].sort().reverse());
    const ids = changed.body.envelopes.slice(0, 2).map((e: Loose) => e.envelopeId);
    const byId = await list({ envelope_ids: ids.join(',') });
    expect(byId.body.envelopes.map((e: Loose) => e.envelopeId)).toEqual(ids);
  });

  it('sends malformed envelopes every malformedEvery', async () => {
    await size(10, { malformedEvery: 5 });
    const page = await list({ from_date: '2020-01-01', order: 'asc' });
    expect(page.body.envelopes.filter((e: Loose) => e.statusChangedDateTime === 'soon')).toHaveLength(2);
  });
});
