import { describe, expect, it } from 'vitest';
import { Lifecycle } from '../../src/ops/lifecycle.js';

describe('lifecycle: requests in flight at shutdown', () => {
  it('is done at once with no request in flight', async () => {
    await expect(new Lifecycle().requestsDone()).resolves.toBeUndefined();
  });

  it('waits for every started request, finished or aborted, and ignores unknown ones', async () => {
    const lifecycle = new Lifecycle();
    const [a, b] = [{}, {}];
    lifecycle.requestStarted(a);
    lifecycle.requestStarted(b);
    let done = false;
    const waiting = lifecycle.requestsDone().then(() => void (done = true));
    lifecycle.requestDone({});
    lifecycle.requestDone(a);
    await Promise.resolve();
    expect(done).toBe(false);
    lifecycle.requestDone(b);
    await waiting;
    expect(done).toBe(true);
  });
});
