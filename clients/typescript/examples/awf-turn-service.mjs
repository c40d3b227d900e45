#!/usr/bin/env node
// A seed-003-style TypeScript backend in miniature: every chat turn asks phased
// (over OFREP, through the OpenFeature SDK it already uses) whether this user
// gets the AWF pipeline, runs the AWF or the legacy turn, and reports the
// turn's outcome (latency, validator retries, fallback to legacy) so that the
// rollout of examples/plans/awf-phase7.yaml is judged on it.
//
//   PHASED_URL=http://127.0.0.1:8700 PHASED_TOKEN=phd_... node examples/awf-turn-service.mjs --turns 2000
//   ... --fallback-rate 0.05      # a bad AWF build: 5 % of AWF turns fall back to legacy
//
// (A TypeScript service imports the same: `import { PhasedOutcomes } from '@phased/outcomes'`.)
import { parseArgs } from 'node:util';

import { OpenFeature } from '@openfeature/server-sdk';
import { OFREPProvider } from '@openfeature/ofrep-provider';

import { PhasedOutcomes } from '../src/index.js';

const { values: args } = parseArgs({
  options: {
    turns: { type: 'string', default: '1000' },
    users: { type: 'string', default: '400' },
    'fallback-rate': { type: 'string', default: '0.002' },
    'retry-rate': { type: 'string', default: '0.02' },
    flag: { type: 'string', default: 'awf_bundle' },
    seed: { type: 'string', default: '3' },
  },
});
const url = process.env.PHASED_URL ?? 'http://127.0.0.1:8700';
const token = process.env.PHASED_TOKEN;
const environment = process.env.PHASED_ENV ?? 'prod';
const flag = args.flag;

// A small deterministic random source, so two runs tell the same story.
let state = Number(args.seed) >>> 0 || 1;
const random = () => {
  state ^= state << 13; state >>>= 0; state ^= state >> 17; state ^= state << 5; state >>>= 0;
  return state / 2 ** 32;
};

const outcomes = new PhasedOutcomes({ url, token, environment });
await OpenFeature.setProviderAndWait(new OFREPProvider({
  baseUrl: url, headers: [['Authorization', `Bearer ${token}`]],
}));
const features = OpenFeature.getClient();
features.addHooks(outcomes.hook());

async function awfTurn(t) {
  // The AWF bundle pipeline: one model call, a validator that sometimes asks again.
  if (random() < Number(args['retry-rate'])) t.retry();
  if (random() < Number(args['fallback-rate'])) {
    t.fallback(); // validation failed twice: the legacy turn answers instead
    return legacyTurn();
  }
  t.cost(0.0004);
  return 'awf';
}

function legacyTurn() {
  return 'legacy';
}

const served = { awf: 0, legacy: 0 };
for (let i = 0; i < Number(args.turns); i++) {
  const user = `user-${Math.floor(random() * Number(args.users))}`;
  const context = { targetingKey: user, session: `session-${i % 50}` };
  const awf = await features.getBooleanValue(flag, false, context);
  const answer = await outcomes.track(flag, context, (t) => (awf ? awfTurn(t) : legacyTurn()));
  served[answer] += 1;
}
const delivered = await outcomes.close();
await OpenFeature.close();
console.log(JSON.stringify({ turns: Number(args.turns), served, delivered, sink: outcomes.sink.stats }));
