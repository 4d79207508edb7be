import type { Clock } from '../../src/clock.js';

/** A clock tests move by hand; starts at the real time so remote peers agree with it. */
export class TestClock implements Clock {
  private offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  advance(ms: number): void {
    this.offset += ms;
  }
  /** Back to the real time. */
  reset(): void {
    this.offset = 0;
  }
}
