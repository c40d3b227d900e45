// Types of @phased/outcomes (the package is plain ESM JavaScript; see README.md).

export type Arm = 'candidate' | 'control';

export interface OutcomeFields {
  arm: Arm;
  stage?: string;
  user?: string;
  latencyMs?: number;
  error?: boolean;
  fallback?: boolean;
  retries?: number;
  costUsd?: number;
  metrics?: Record<string, number>;
}

/** Evaluation details (OpenFeature's) or an evaluation context with a targeting key. */
export interface AttributionSource {
  flagMetadata?: Record<string, string | number | boolean>;
  targetingKey?: string;
}

export interface SinkStats {
  sentBatches: number;
  sentWindows: number;
  duplicateBatches: number;
  droppedWindows: number;
  rejectedWindows: number;
  retries: number;
  lastError: string | null;
}

export interface Window {
  key: { flag: string; environment: string; arm: Arm; stage: string; slot: number };
  aggregate: Record<string, unknown>;
}

export interface OutcomeSink {
  write(windows: Window[]): void;
  close?(timeoutMs?: number): Promise<boolean>;
}

export interface HttpSinkOptions {
  url: string;
  token: string;
  environment: string;
  maxQueue?: number;
  batchSize?: number;
  baseDelay?: number;
  maxDelay?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
  logger?: Pick<Console, 'warn'>;
}

export class HttpSink implements OutcomeSink {
  constructor(options: HttpSinkOptions);
  readonly stats: SinkStats;
  write(windows: Window[]): void;
  pending(): number;
  flush(timeoutMs?: number): Promise<boolean>;
  close(timeoutMs?: number): Promise<boolean>;
}

export class Tracking {
  readonly flag: string;
  readonly arm: Arm | undefined;
  readonly stage: string | undefined;
  readonly enabled: boolean;
  error(): this;
  fallback(): this;
  retry(count?: number): this;
  cost(usd: number): this;
  metric(name: string, value: number): this;
  end(): void;
}

export interface PhasedOutcomesOptions extends Partial<HttpSinkOptions> {
  environment: string;
  flushIntervalMs?: number;
  sink?: OutcomeSink;
}

export class PhasedOutcomes {
  constructor(options: PhasedOutcomesOptions);
  readonly stats: { recorded: number; droppedOutcomes: number; unattributed: number };
  readonly sink: OutcomeSink;
  record(flag: string, fields: OutcomeFields): void;
  start(flag: string, source?: AttributionSource): Tracking;
  track<T>(flag: string, source: AttributionSource, fn: (t: Tracking) => T | Promise<T>): Promise<T>;
  /** An OpenFeature server-sdk Hook. */
  hook(): { after(hookContext: unknown, details: unknown): void };
  flush(options?: { everything?: boolean }): void;
  close(timeoutMs?: number): Promise<boolean>;
}

export function slotOf(seconds: number): number;
export function bucketKey(value: number): number;
export function hash64(text: string, seed?: number): bigint;
export function hash64Hex(text: string): string;
export const MAX_BATCH_WINDOWS: number;
export const OUTCOMES_PATH: string;
