// @phased/outcomes against a real `phased serve` (started by
// tests/clients/test_typescript.py), under `node --test`:
//   PHASED_URL, PHASED_TOKEN (sdk, prod), PHASED_ADMIN (reads the outcomes back),
//   PHASED_VECTORS (murmur3 and sketch-bucket vectors computed by Python).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { after, describe, test } from 'node:test';

import { OpenFeature } from '@openfeature/server-sdk';
import { OFREPProvider } from '@openfeature/ofrep-provider';

import { HttpSink, PhasedOutcomes, bucketKey, hash64Hex } from '../src/index.js';

const url = process.env.PHASED_URL;
const token = process.env.PHASED_TOKEN;
const admin = process.env.PHASED_ADMIN;
const vectors = JSON.parse(readFileSync(process.env.PHASED_VECTORS, 'utf8'));

const quiet = () => {
  const lines = [];
  return { lines, warn: (m) => lines.push(m) };
};

async function totals(flag) {
  const r = await fetch(`${url}/api/v1/outcomes/${flag}?environment=prod`, {
    headers: { authorization: `Bearer ${admin}` },
  });
  assert.equal(r.status, 200);
  return Object.fromEntries((await r.json()).arms.map((a) => [a.arm, a]));
}

/** A local HTTP server answering POST /api/v1/sdk/outcomes from a script of statuses. */
async function scripted(statuses) {
  const seen = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      seen.push({ body: JSON.parse(body), headers: req.headers });
      const status = statuses.shift() ?? 200;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(status === 200 ? { accepted: 1, duplicate: false } : { error: {} }));
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { seen, server, url: `http://127.0.0.1:${server.address().port}` };
}

after(async () => { await OpenFeature.close(); });

describe('the same aggregates as the Python SDK', () => {
  test('user hashes are mmh3.hash64', () => {
    for (const [text, hex] of vectors.murmur) assert.equal(hash64Hex(text), hex, text);
  });
  test('latency buckets are phased.core.sketch.bucket_key', () => {
    for (const [value, key] of vectors.buckets) assert.equal(bucketKey(value), key, String(value));
  });
});

describe('outcomes of an OpenFeature app reach the gates', () => {
  test('hook + track() per arm, read back from the server', async () => {
    const outcomes = new PhasedOutcomes({ url, token, environment: 'prod', logger: quiet() });
    await OpenFeature.setProviderAndWait('outcomes', new OFREPProvider({
      baseUrl: url, headers: [['Authorization', `Bearer ${token}`]],
    }));
    const client = OpenFeature.getClient('outcomes');
    client.addHooks(outcomes.hook());
    const want = { candidate: { requests: 0, errors: 0 }, control: { requests: 0, errors: 0 } };
    for (let i = 0; i < 60; i++) {
      const user = `user-${i}`;
      const on = await client.getBooleanValue('new-checkout', false, { targetingKey: user });
      const arm = on ? 'candidate' : 'control';
      const fail = i % 10 === 0;
      await outcomes.track('new-checkout', { targetingKey: user }, async (t) => {
        assert.equal(t.arm, arm);
        t.cost(0.01).metric('tokens', 100);
        if (i % 7 === 0) t.fallback();
        if (fail) throw new Error('boom');
      }).catch((err) => assert.equal(err.message, 'boom'));
      want[arm].requests += 1;
      if (fail) want[arm].errors += 1;
    }
    // Straight from evaluation details too (no hook needed).
    const details = await client.getBooleanDetails('new-checkout', false, { targetingKey: 'vip-1' });
    outcomes.start('new-checkout', details).retry(2).end();
    want.candidate.requests += 1;
    assert.equal(await outcomes.close(), true);
    assert.equal(outcomes.sink.stats.sentBatches, 1);
    const got = await totals('new-checkout');
    for (const arm of ['candidate', 'control']) {
      assert.equal(got[arm].requests, want[arm].requests, arm);
      assert.equal(got[arm].errors, want[arm].errors, arm);
      assert.ok(got[arm].latency_p50_ms !== null);
      assert.equal(got[arm].metrics.tokens, 100);
    }
    assert.equal(got.candidate.unique_users + got.control.unique_users, 60);
    assert.equal(outcomes.stats.unattributed, 0);
  });

  test('a use the hook never saw is measured but not attributed', async () => {
    const outcomes = new PhasedOutcomes({ url, token, environment: 'prod', logger: quiet() });
    await outcomes.track('new-checkout', { targetingKey: 'never-evaluated' }, () => 1);
    assert.equal(outcomes.stats.unattributed, 1);
    assert.equal(outcomes.stats.recorded, 0);
    await outcomes.close();
  });
});

describe('delivery rules of the Python HttpSink', () => {
  test('a retried batch keeps its id; 4xx drops it', async () => {
    const fake = await scripted([503, 429, 200, 400]);
    const sink = new HttpSink({ url: fake.url, token: 't', environment: 'prod', baseDelay: 0.01, logger: quiet() });
    const w = { key: { flag: 'f', environment: 'prod', arm: 'control', stage: '', slot: 1 }, aggregate: {} };
    sink.write([w]);
    assert.equal(await sink.flush(5000), true);
    sink.write([w]);
    assert.equal(await sink.flush(5000), true);
    fake.server.close();
    const ids = fake.seen.map((s) => s.body.batch_id);
    assert.equal(ids.length, 4);
    assert.equal(new Set(ids.slice(0, 3)).size, 1);
    assert.match(ids[0], /^[0-9a-f]{32}$/);
    assert.notEqual(ids[3], ids[0]);
    assert.equal(sink.stats.retries, 2);
    assert.equal(sink.stats.rejectedWindows, 1);
  });

  test('batches of at most 500 windows', async () => {
    const fake = await scripted([]);
    const sink = new HttpSink({ url: fake.url, token: 't', environment: 'prod', logger: quiet() });
    const windows = Array.from({ length: 1200 }, (_, i) => ({
      key: { flag: 'f', environment: 'prod', arm: 'control', stage: '', slot: i }, aggregate: {},
    }));
    sink.write(windows);
    await sink.flush(5000);
    fake.server.close();
    assert.deepEqual(fake.seen.map((s) => s.body.windows.length), [500, 500, 200]);
  });

  test('server down: never throws, bounded memory, lost windows reported later', async () => {
    const log = quiet();
    const outcomes = new PhasedOutcomes({
      url: 'http://127.0.0.1:9', token, environment: 'prod', logger: log, maxQueue: 5, baseDelay: 0.01, maxDelay: 0.02,
    });
    for (let round = 0; round < 20; round++) {
      outcomes.record('new-checkout', { arm: 'control', user: `u-${round}`, latencyMs: 5 });
      outcomes.flush({ everything: true });
    }
    assert.ok(outcomes.sink.queue.length <= 5);
    assert.ok(outcomes.sink.stats.droppedWindows >= 14);
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(log.lines.filter((l) => l.includes('will retry')).length <= 2, log.lines.join('\n'));
    assert.equal(await outcomes.close(300), false);
    // The next batch that gets through says how many windows were lost.
    const fake = await scripted([]);
    outcomes.sink.url = fake.url;
    outcomes.sink.closed = false;
    outcomes.sink.write([{ key: { flag: 'f', environment: 'prod', arm: 'control', stage: '', slot: 1 }, aggregate: {} }]);
    await outcomes.sink.flush(2000);
    fake.server.close();
    assert.equal(fake.seen[0].headers['x-phased-dropped-windows'], String(outcomes.sink.stats.droppedWindows));
  });

  test('a wrong token logs once and serves on', async () => {
    const log = quiet();
    const outcomes = new PhasedOutcomes({ url, token: 'phd_wrong', environment: 'prod', logger: log });
    outcomes.record('new-checkout', { arm: 'candidate' });
    assert.equal(await outcomes.close(), true);
    assert.equal(outcomes.sink.stats.rejectedWindows, 1);
    assert.equal(log.lines.length, 1);
    assert.match(log.lines[0], /HTTP 401/);
  });
});
