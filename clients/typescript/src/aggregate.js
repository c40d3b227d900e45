// One outcome window's aggregate, in the JSON form the server reads
// (phased.core.outcomes.Aggregate.to_dict / from_dict).
import { hash64Hex } from './murmur3.js';

const RELATIVE_ACCURACY = 0.01;
const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);
const INV_LOG_GAMMA = 1 / Math.log(GAMMA);
const EXACT_USERS = 512; // the server folds into HyperLogLog past this; we stop adding

/** The 10-second slot of a Unix time in seconds (OutcomeKey.slot). */
export const slotOf = (seconds) => Math.floor(seconds / 10);

/** The latency sketch bucket of a positive value (phased.core.sketch.bucket_key). */
export const bucketKey = (value) => Math.ceil(Math.log(value) * INV_LOG_GAMMA);

export class Aggregate {
  constructor() {
    this.requests = 0;
    this.errors = 0;
    this.fallbacks = 0;
    this.retries = 0;
    this.costUsd = 0;
    this.zeros = 0;
    this.bins = new Map();
    this.metrics = new Map();
    this.users = new Set();
  }

  record({ latencyMs, error, fallback, retries, costUsd, user, metrics } = {}) {
    this.requests += 1;
    if (error) this.errors += 1;
    if (fallback) this.fallbacks += 1;
    if (Number.isFinite(retries) && retries > 0) this.retries += Math.floor(retries);
    if (Number.isFinite(costUsd)) this.costUsd += costUsd;
    if (Number.isFinite(latencyMs)) {
      if (latencyMs > 0) {
        const key = bucketKey(latencyMs);
        this.bins.set(key, (this.bins.get(key) ?? 0) + 1);
      } else {
        this.zeros += 1;
      }
    }
    if (user !== undefined && user !== null && this.users.size < EXACT_USERS) {
      this.users.add(hash64Hex(String(user)));
    }
    for (const [name, value] of Object.entries(metrics ?? {})) {
      if (!Number.isFinite(value)) continue;
      const entry = this.metrics.get(name) ?? [0, 0];
      entry[0] += value;
      entry[1] += 1;
      this.metrics.set(name, entry);
    }
  }

  toJSON() {
    const count = this.zeros + [...this.bins.values()].reduce((a, b) => a + b, 0);
    return {
      requests: this.requests,
      errors: this.errors,
      fallbacks: this.fallbacks,
      retries: this.retries,
      cost_usd: this.costUsd,
      latency: {
        accuracy: RELATIVE_ACCURACY,
        count,
        zeros: this.zeros,
        bins: Object.fromEntries([...this.bins].map(([k, n]) => [String(k), n])),
      },
      metrics: Object.fromEntries([...this.metrics].map(([k, [sum, n]]) => [k, { sum, count: n }])),
      users: { hashes: [...this.users].sort() },
    };
  }
}
