// phased outcomes from JavaScript / TypeScript services: measure each use of a
// flag and ship per-arm windows to `phased serve`, where they feed the
// rollout's gates exactly as the Python SDK's outcomes do.
import { Aggregate, slotOf } from './aggregate.js';
import { HttpSink } from './sink.js';

export { Aggregate, bucketKey, slotOf } from './aggregate.js';
export { HttpSink, MAX_BATCH_WINDOWS, OUTCOMES_PATH } from './sink.js';
export { hash64, hash64Hex } from './murmur3.js';

const MAX_WINDOWS = 10_000; // open windows held in memory; past it new outcomes are dropped
const MAX_REMEMBERED = 10_000; // last evaluations the hook keeps for track(flag, context)

/** One use of a flag being measured: `t.fallback()`, `t.retry()`, `t.cost()`, `t.metric()`, `t.error()`, `t.end()`. */
export class Tracking {
  constructor(outcomes, flag, { arm, stage, user, enabled }) {
    this.outcomes = outcomes;
    this.flag = flag;
    this.arm = arm;
    this.stage = stage;
    this.user = user;
    this.enabled = enabled;
    this.started = performance.now();
    this.failed = false;
    this.fellBack = false;
    this.retries = 0;
    this.costUsd = 0;
    this.metrics = {};
    this.done = false;
  }

  error() { this.failed = true; return this; }
  fallback() { this.fellBack = true; return this; }
  retry(count = 1) { this.retries += count; return this; }
  cost(usd) { this.costUsd += usd; return this; }
  metric(name, value) { this.metrics[name] = value; return this; }

  /** Record this use (once); the latency is the time since the tracking started. */
  end() {
    if (this.done) return;
    this.done = true;
    this.outcomes.record(this.flag, {
      arm: this.arm, stage: this.stage, user: this.user,
      latencyMs: performance.now() - this.started, error: this.failed, fallback: this.fellBack,
      retries: this.retries, costUsd: this.costUsd, metrics: this.metrics,
    });
  }
}

export class PhasedOutcomes {
  /**
   * @param {object} options url, token (role sdk, bound to `environment`), environment;
   *   flushIntervalMs (5000); sink (instead of HTTP: anything with write(windows)); logger.
   */
  constructor({ url, token, environment, flushIntervalMs = 5_000, sink, logger = console, ...http } = {}) {
    this.environment = environment;
    this.logger = logger;
    this.sink = sink ?? new HttpSink({ url, token, environment, logger, ...http });
    this.windows = new Map();
    this.remembered = new Map();
    this.stats = { recorded: 0, droppedOutcomes: 0, unattributed: 0 };
    this.timer = setInterval(() => this.flush({ everything: false }), flushIntervalMs);
    this.timer.unref?.();
    this.closed = false;
  }

  /** Record one outcome measured elsewhere. `arm` is "candidate" or "control". Never throws. */
  record(flag, { arm, stage = '', user, latencyMs, error = false, fallback = false, retries = 0,
    costUsd = 0, metrics } = {}) {
    try {
      if (this.closed || (arm !== 'candidate' && arm !== 'control')) return;
      const slot = slotOf(Date.now() / 1000);
      const id = `${flag}\u0000${arm}\u0000${stage ?? ''}\u0000${slot}`;
      let window = this.windows.get(id);
      if (!window) {
        if (this.windows.size >= MAX_WINDOWS) { this.stats.droppedOutcomes += 1; return; }
        window = { key: { flag, environment: this.environment, arm, stage: stage ?? '', slot }, aggregate: new Aggregate() };
        this.windows.set(id, window);
      }
      window.aggregate.record({ latencyMs, error, fallback, retries, costUsd, user, metrics });
      this.stats.recorded += 1;
    } catch (err) {
      this.warn(`could not record an outcome of ${flag}: ${err}`);
    }
  }

  /**
   * Start measuring one use of `flag`. `source` is the OpenFeature evaluation
   * details of that use (its flagMetadata carries `arm` and `stage` from
   * phased's OFREP), or an evaluation context the hook saw evaluate `flag`.
   */
  start(flag, source = {}) {
    const seen = this.attribution(flag, source);
    return new Tracking(this, flag, seen ?? { arm: undefined, enabled: false });
  }

  /** Measure `fn(t)`: latency, and an error when it throws (the exception propagates). */
  async track(flag, source, fn) {
    const t = this.start(flag, source);
    try {
      return await fn(t);
    } catch (err) {
      t.error();
      throw err;
    } finally {
      if (t.arm === undefined) this.stats.unattributed += 1;
      t.end();
    }
  }

  attribution(flag, source) {
    const meta = source?.flagMetadata;
    if (meta && (meta.arm === 'candidate' || meta.arm === 'control')) {
      return { arm: meta.arm, stage: meta.stage ?? '', user: source.targetingKey, enabled: meta.arm === 'candidate' };
    }
    const key = source?.targetingKey;
    return key === undefined ? undefined : this.remembered.get(`${flag}\u0000${key}`);
  }

  /** An OpenFeature hook remembering each evaluation's arm and stage for `track(flag, context, fn)`. */
  hook() {
    return {
      after: (hookContext, details) => {
        try {
          const meta = details?.flagMetadata ?? {};
          if (meta.arm !== 'candidate' && meta.arm !== 'control') return;
          const user = hookContext?.context?.targetingKey;
          if (user === undefined) return;
          const id = `${details.flagKey}\u0000${user}`;
          this.remembered.delete(id);
          this.remembered.set(id, { arm: meta.arm, stage: meta.stage ?? '', user, enabled: meta.arm === 'candidate' });
          if (this.remembered.size > MAX_REMEMBERED) this.remembered.delete(this.remembered.keys().next().value);
        } catch { /* a hook never breaks an evaluation */ }
      },
    };
  }

  /** Hand closed windows (all of them with `everything`) to the sink. */
  flush({ everything = true } = {}) {
    try {
      const current = slotOf(Date.now() / 1000);
      const taken = [];
      for (const [id, w] of this.windows) {
        if (everything || w.key.slot < current) {
          taken.push({ key: w.key, aggregate: w.aggregate.toJSON() });
          this.windows.delete(id);
        }
      }
      if (taken.length) this.sink.write(taken);
    } catch (err) {
      this.warn(`could not flush outcomes: ${err}`);
    }
  }

  /** Ship everything and wait (bounded) for delivery; true when all was delivered. */
  async close(timeoutMs = 10_000) {
    clearInterval(this.timer);
    this.flush({ everything: true });
    this.closed = true;
    try {
      return typeof this.sink.close === 'function' ? await this.sink.close(timeoutMs) : true;
    } catch {
      return false;
    }
  }

  warn(message) {
    try { this.logger?.warn?.(`phased: ${message}`); } catch { /* never into the app */ }
  }
}
