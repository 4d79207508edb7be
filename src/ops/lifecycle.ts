// The hooks through which readiness and shutdown learn about the process's
// parts. The KV store and the registration snapshot are checked by
// src/ops/health.ts itself; a later part (the PostgreSQL store) registers its
// own check and its close here, without touching the routes.

export interface ReadinessCheck {
  readonly name: string;
  /**
   * A failing critical check makes the instance unready. A non-critical one is
   * only reported: a database outage leaves logins running from the snapshot
   * (docs/failure-behaviour.md), so it must not take the instance out of rotation.
   */
  readonly critical: boolean;
  check(): Promise<void>;
}

export class Lifecycle {
  #draining = false;
  readonly #checks: ReadinessCheck[] = [];
  readonly #closers: Array<() => Promise<void>> = [];
  readonly #requests = new Set<object>();
  #allDone: (() => void) | undefined;

  /** True from the first shutdown signal: readiness fails so load balancers send new work elsewhere. */
  get draining(): boolean {
    return this.#draining;
  }

  startDraining(): void {
    this.#draining = true;
  }

  requestStarted(request: object): void {
    this.#requests.add(request);
  }

  requestDone(request: object): void {
    this.#requests.delete(request);
    if (this.#requests.size === 0) this.#allDone?.();
  }

  /** Resolves once every started request has run its response hooks (src/ops/shutdown.ts). */
  requestsDone(): Promise<void> {
    if (this.#requests.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#allDone = resolve;
    });
  }

  addReadinessCheck(check: ReadinessCheck): void {
    this.#checks.push(check);
  }

  get readinessChecks(): readonly ReadinessCheck[] {
    return this.#checks;
  }

  /** Runs when the app closes, after in-flight requests have finished; last registered, first closed. */
  onClose(close: () => Promise<void>): void {
    this.#closers.push(close);
  }

  /** Every closer runs even if one fails; the failures are handed back for the log. */
  async close(): Promise<unknown[]> {
    const failures: unknown[] = [];
    for (const close of [...this.#closers].reverse()) {
      await close().catch((err: unknown) => failures.push(err));
    }
    return failures;
  }
}
