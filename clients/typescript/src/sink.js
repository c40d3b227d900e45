// POST /api/v1/sdk/outcomes with the Python HttpSink's rules (docs/sdk-protocol.md):
// batches of at most 500 windows, each with a 32-hex id reused on every retry;
// retry on network errors, 408, 425, 429 (Retry-After honoured, at most 300 s)
// and 5xx with exponential back-off and full jitter (1 s doubling to 60 s);
// any other 4xx drops the batch (counted as rejected). At most `maxQueue`
// batches wait; a full queue drops its oldest batch and reports the lost
// windows in X-Phased-Dropped-Windows with the next batch that gets through.
// Never throws; logs the first failure and then every 50th.
import { randomUUID } from 'node:crypto';

export const OUTCOMES_PATH = '/api/v1/sdk/outcomes';
export const MAX_BATCH_WINDOWS = 500;
const RETRYABLE = new Set([408, 425, 429]);

export class HttpSink {
  constructor({ url, token, environment, maxQueue = 200, batchSize = MAX_BATCH_WINDOWS,
    baseDelay = 1, maxDelay = 60, timeoutMs = 10_000, fetch: fetchImpl = globalThis.fetch,
    logger = console } = {}) {
    this.url = String(url ?? '').replace(/\/+$/, '');
    this.token = token;
    this.environment = environment;
    this.maxQueue = maxQueue;
    this.batchSize = batchSize;
    this.baseDelay = baseDelay;
    this.maxDelay = maxDelay;
    this.timeoutMs = timeoutMs;
    this.fetch = fetchImpl;
    this.logger = logger;
    this.queue = [];
    this.running = null;
    this.closed = false;
    this.wake = null;
    this.reportedDrops = 0;
    this.stats = { sentBatches: 0, sentWindows: 0, duplicateBatches: 0, droppedWindows: 0,
      rejectedWindows: 0, retries: 0, lastError: null };
  }

  /** Queue windows ([{key, aggregate}]) in batches; never blocks, never throws. */
  write(windows) {
    try {
      for (let i = 0; i < windows.length; i += this.batchSize) {
        if (this.queue.length >= this.maxQueue) {
          const lost = this.queue.shift();
          this.stats.droppedWindows += lost.windows.length;
          this.warn(`outcome queue full (${this.maxQueue} batches); dropped ${lost.windows.length} windows`);
        }
        this.queue.push({ id: randomUUID().replaceAll('-', ''), windows: windows.slice(i, i + this.batchSize) });
      }
      this.start();
    } catch (err) {
      this.warn(`could not queue outcomes: ${err}`);
    }
  }

  pending() {
    return this.queue.length + (this.inflight ? 1 : 0);
  }

  start() {
    if (!this.running && this.queue.length && !this.closed) {
      this.running = this.run().finally(() => { this.running = null; });
    }
  }

  async run() {
    let attempt = 0;
    while (this.queue.length) {
      const batch = this.queue[0];
      this.inflight = true;
      const wait = await this.post(batch);
      this.inflight = false;
      if (wait === null) {
        if (this.queue[0] === batch) this.queue.shift();
        attempt = 0;
        continue;
      }
      if (this.closed) return;
      attempt += 1;
      this.stats.retries += 1;
      const ceiling = Math.min(this.maxDelay, this.baseDelay * 2 ** Math.min(attempt - 1, 30));
      const delay = Math.max(wait, Math.max(0.05, Math.random() * ceiling));
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, delay * 1000);
        timer.unref?.();
        this.wake = () => { clearTimeout(timer); resolve(); };
      });
      this.wake = null;
    }
  }

  /** null when done with the batch, else seconds to wait before retrying it. */
  async post(batch) {
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${this.token}`,
      'user-agent': 'phased-js/0.1.0' };
    const drops = this.stats.droppedWindows - this.reportedDrops;
    if (drops) headers['x-phased-dropped-windows'] = String(drops);
    const body = JSON.stringify({ batch_id: batch.id, environment: this.environment, windows: batch.windows });
    let response;
    try {
      response = await this.fetch(this.url + OUTCOMES_PATH, { method: 'POST', headers, body,
        signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      return this.retry(`POST ${OUTCOMES_PATH}: ${err?.cause?.code ?? err?.name ?? 'Error'}: ${err?.message ?? err}`, 0);
    }
    const status = response.status;
    let text = '';
    try { text = await response.text(); } catch { /* the status is what counts */ }
    if (status >= 200 && status < 300) {
      this.reportedDrops += drops;
      this.stats.sentBatches += 1;
      this.stats.sentWindows += batch.windows.length;
      try { if (JSON.parse(text).duplicate) this.stats.duplicateBatches += 1; } catch { /* fine */ }
      return null;
    }
    const error = `POST ${OUTCOMES_PATH}: HTTP ${status}: ${text.slice(0, 200)}`;
    if (RETRYABLE.has(status) || status >= 500) {
      const after = Number.parseFloat(response.headers.get('retry-after') ?? '0');
      return this.retry(error, Number.isFinite(after) ? Math.min(after, 300) : 0);
    }
    this.stats.rejectedWindows += batch.windows.length;
    this.stats.lastError = error;
    this.warn(`server refused ${batch.windows.length} outcome windows: ${error}`);
    return null;
  }

  retry(error, wait) {
    if (this.stats.lastError === null || this.stats.retries % 50 === 0) this.warn(`${error}; will retry`);
    this.stats.lastError = error;
    return wait;
  }

  warn(message) {
    try { this.logger?.warn?.(`phased: ${message}`); } catch { /* never into the app */ }
  }

  /** Wait until the queue is delivered or `timeoutMs` passes; true when delivered. */
  async flush(timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    this.wake?.();
    this.start();
    while (this.pending() && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      if (!this.running) this.start();
    }
    return this.pending() === 0;
  }

  async close(timeoutMs = 10_000) {
    const done = await this.flush(timeoutMs);
    this.closed = true;
    this.wake?.();
    const left = this.queue.reduce((n, b) => n + b.windows.length, 0);
    if (left) this.warn(`closing with ${left} outcome windows undelivered`);
    this.queue = [];
    return done;
  }
}
