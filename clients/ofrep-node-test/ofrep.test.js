// phased's OFREP endpoints through the community Node providers, unchanged:
// @openfeature/server-sdk + @openfeature/ofrep-provider.
//
// tests/server/test_ofrep_node.py starts the server, loads
// tests/server/ofrep_flags.yaml and runs `node --test` here with
//   PHASED_URL       the server's base URL
//   PHASED_TOKEN     an sdk token bound to prod
//   PHASED_EXPECTED  a JSON file: {"users": {user: {"new-checkout": bool, "layout": str}}}
//                    computed by phased.Client from the same flags file.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { OpenFeature, ErrorCode, StandardResolutionReasons } from '@openfeature/server-sdk';
import { OFREPProvider } from '@openfeature/ofrep-provider';

const url = process.env.PHASED_URL;
const token = process.env.PHASED_TOKEN;
const expected = JSON.parse(readFileSync(process.env.PHASED_EXPECTED, 'utf8'));

let client;
let badClient;

before(async () => {
  await OpenFeature.setProviderAndWait(
    'phased',
    new OFREPProvider({ baseUrl: url, headers: [['Authorization', `Bearer ${token}`]] }),
  );
  await OpenFeature.setProviderAndWait(
    'bad-token',
    new OFREPProvider({ baseUrl: url, headers: [['X-API-Key', 'phd_not-a-token']] }),
  );
  client = OpenFeature.getClient('phased');
  badClient = OpenFeature.getClient('bad-token');
});

after(async () => {
  await OpenFeature.close();
});

describe('boolean flag', () => {
  test('an override is a targeting match', async () => {
    const d = await client.getBooleanDetails('new-checkout', false, { targetingKey: 'vip-1' });
    assert.equal(d.value, true);
    assert.equal(d.reason, StandardResolutionReasons.TARGETING_MATCH);
    assert.equal(d.variant, 'on');
    assert.equal(d.flagMetadata.reason, 'override:user=vip-1');
    assert.equal(d.flagMetadata.environment, 'prod');
  });

  test('an override can pin off', async () => {
    const d = await client.getBooleanDetails('new-checkout', true, { targetingKey: 'blocked-1' });
    assert.equal(d.value, false);
  });

  test('a segment matches on a context attribute', async () => {
    const d = await client.getBooleanDetails('new-checkout', false, { targetingKey: 'u-9', role: 'pm' });
    assert.equal(d.value, true);
    assert.equal(d.flagMetadata.reason, 'segment:staff');
  });

  test('the kill switch serves off to everyone', async () => {
    const d = await client.getBooleanDetails('killed-feature', true, { targetingKey: 'vip-1' });
    assert.equal(d.value, false);
    assert.equal(d.reason, StandardResolutionReasons.DISABLED);
  });
});

describe('percentage rollout', () => {
  test('each user gets what phased.Client gives them', async () => {
    const users = Object.entries(expected.users);
    assert.ok(users.length >= 50);
    let on = 0;
    for (const [user, want] of users) {
      const flag = await client.getBooleanValue('new-checkout', !want['new-checkout'], { targetingKey: user });
      assert.equal(flag, want['new-checkout'], user);
      const layout = await client.getStringValue('layout', '?', { targetingKey: user });
      assert.equal(layout, want.layout, user);
      if (flag) on += 1;
    }
    assert.ok(on > 0 && on < users.length, `rollout gave ${on}/${users.length}`);
  });

  test('no targeting key for a split is TARGETING_KEY_MISSING and the default', async () => {
    const d = await client.getBooleanDetails('new-checkout', true, {});
    assert.equal(d.value, true);
    assert.equal(d.errorCode, ErrorCode.TARGETING_KEY_MISSING);
  });
});

describe('string and object flags', () => {
  test('a multivariate flag is a string', async () => {
    const d = await client.getStringDetails('layout', '?', { targetingKey: 'user-1' });
    assert.ok(['control', 'compact', 'wide'].includes(d.value));
    assert.equal(d.reason, StandardResolutionReasons.SPLIT);
  });

  test('payloads make an object flag', async () => {
    const d = await client.getObjectDetails('theme', {}, { targetingKey: 'user-1' });
    assert.deepEqual(d.value, { background: '#000000', contrast: 2 });
    assert.equal(d.variant, 'dark');
  });
});

describe('errors serve the default', () => {
  test('unknown flag', async () => {
    const d = await client.getBooleanDetails('nope', true, { targetingKey: 'u' });
    assert.equal(d.value, true);
    assert.equal(d.errorCode, ErrorCode.FLAG_NOT_FOUND);
  });

  test('wrong type', async () => {
    const d = await client.getBooleanDetails('layout', true, { targetingKey: 'u' });
    assert.equal(d.value, true);
    assert.equal(d.errorCode, ErrorCode.TYPE_MISMATCH);
  });

  test('bad token', async () => {
    const d = await badClient.getBooleanDetails('static-on', false, { targetingKey: 'u' });
    assert.equal(d.value, false);
    assert.equal(d.reason, StandardResolutionReasons.ERROR);
    assert.equal(d.errorCode, ErrorCode.GENERAL);
  });
});
