import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import { UnavailableError } from '../errors.js';
import { assertCount, assertStep, assertTtl, takenIsLive, type Kv, type SingleUseStep, type StepResult } from './kv.js';

interface Entry {
  value: string;
  expiresAt: number;
}

const SWEEP_INTERVAL_MS = 30_000;

/**
 * The embedded single-process adapter. JavaScript runs one callback at a time,
 * so each method body is atomic, as the Redis commands are.
 */
export class MemoryKv implements Kv {
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly clock: Clock = systemClock,
    /** A flood of pending logins must not exhaust the process: when full, writes fail closed (503). */
    private readonly maxEntries = 1_000_000,
  ) {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  async get(key: string): Promise<string | null> {
    return this.live(key)?.value ?? null;
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    assertTtl(ttlMs);
    this.reserve(key);
    this.entries.set(key, { value, expiresAt: this.clock.now() + ttlMs });
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    assertTtl(ttlMs);
    if (this.live(key)) return false;
    this.reserve(key);
    this.entries.set(key, { value, expiresAt: this.clock.now() + ttlMs });
    return true;
  }

  async take(key: string): Promise<string | null> {
    const entry = this.live(key);
    this.entries.delete(key);
    return entry?.value ?? null;
  }

  async swap(key: string, value: string, ttlMs: number): Promise<string | null> {
    assertTtl(ttlMs);
    const entry = this.live(key);
    if (!entry) return null;
    this.entries.set(key, { value, expiresAt: this.clock.now() + ttlMs });
    return entry.value;
  }

  async increment(key: string, windowMs: number, by = 1): Promise<{ count: number; ttlMs: number }> {
    assertTtl(windowMs);
    assertCount(by);
    const now = this.clock.now();
    const entry = this.live(key);
    if (!entry) {
      this.reserve(key);
      this.entries.set(key, { value: String(by), expiresAt: now + windowMs });
      return { count: by, ttlMs: windowMs };
    }
    entry.value = String(Number(entry.value) + by);
    return { count: Number(entry.value), ttlMs: entry.expiresAt - now };
  }

  async del(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async touch(key: string, ttlMs: number): Promise<boolean> {
    assertTtl(ttlMs);
    const entry = this.live(key);
    if (entry) entry.expiresAt = this.clock.now() + ttlMs;
    return entry !== undefined;
  }

  async step(step: SingleUseStep): Promise<StepResult> {
    assertStep(step);
    const now = this.clock.now();
    if (step.claim) {
      if (this.live(step.claim.key)) return { fresh: false, taken: null, written: false };
      this.reserve(step.claim.key);
      this.entries.set(step.claim.key, { value: '1', expiresAt: now + step.claim.ttlMs });
    }
    const { key, leave } = step.take;
    const taken = this.live(key)?.value ?? null;
    if (leave === undefined) this.entries.delete(key);
    else if (taken !== null) this.entries.set(key, { value: leave.value, expiresAt: now + leave.ttlMs });
    if (!takenIsLive(step, taken)) return { fresh: true, taken, written: false };
    let written = true;
    for (const put of step.put) {
      if (this.live(put.key)) {
        written = false;
        continue;
      }
      this.reserve(put.key);
      this.entries.set(put.key, { value: put.appendTaken ? put.value + taken : put.value, expiresAt: now + put.ttlMs });
    }
    return { fresh: true, taken, written };
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.entries.clear();
  }

  /** Number of live keys (tests use it to prove that a refused request stored nothing). */
  size(): number {
    this.sweep();
    return this.entries.size;
  }

  keys(): string[] {
    this.sweep();
    return [...this.entries.keys()];
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= this.clock.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private reserve(key: string): void {
    if (this.entries.size < this.maxEntries || this.entries.has(key)) return;
    this.sweep();
    if (this.entries.size >= this.maxEntries) throw new UnavailableError(new Error('in-memory KV is full'));
  }

  private sweep(): void {
    const now = this.clock.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }
}
