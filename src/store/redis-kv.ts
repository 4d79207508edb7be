import { Cluster, Redis } from 'ioredis';
import type { ClusterOptions, RedisOptions } from 'ioredis';
import { UnavailableError } from '../errors.js';
import { assertCount, assertStep, assertTtl, stepByParts, type Kv, type SingleUseStep, type StepResult } from './kv.js';

export const KEY_PREFIX = 'pgw:';
/** ioredis's error for a command past commandTimeout. */
const COMMAND_TIMED_OUT = 'Command timed out';

// Fail fast instead of queueing: a login waiting on a dead Redis should get a
// 503 within a bounded time, and no unbounded offline queue may build up
// (docs/failure-behaviour.md). ioredis reconnects by itself.
export const redisOptions: RedisOptions = {
  keyPrefix: KEY_PREFIX,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  connectTimeout: 2_000,
  commandTimeout: 1_000,
  retryStrategy: (attempt) => Math.min(100 * attempt, 2_000),
  // After a failover a client may still talk to the demoted primary.
  reconnectOnError: (err) => err.message.startsWith('READONLY'),
  lazyConnect: true,
  // Commands issued in the same tick share one socket write: under load that
  // halves the gateway's syscalls without adding latency.
  enableAutoPipelining: true,
};

// One step, so concurrent requests never see a counter without its window
// (a crash between INCR and PEXPIRE would otherwise leave a counter forever).
const INCREMENT_SCRIPT = `
local count = redis.call('INCRBY', KEYS[1], ARGV[2])
if count == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('PTTL', KEYS[1])}`;

// A login's single-use step (src/store/kv.ts, SingleUseStep) in one script: KEYS are the claim (when
// ARGV[1] is '1'), the take, then the puts; ARGV[3] is 'leave' to replace the taken value instead of
// deleting it; each put has three arguments from ARGV[7] on: value, TTL, '1' to append the taken value.
const STEP_SCRIPT = `
local k = 1
if ARGV[1] == '1' then
  if not redis.call('SET', KEYS[1], '1', 'PX', ARGV[2], 'NX') then return {0, 0, '', 0} end
  k = 2
end
local taken
if ARGV[3] == 'leave' then taken = redis.call('SET', KEYS[k], ARGV[4], 'PX', ARGV[5], 'XX', 'GET')
else taken = redis.call('GETDEL', KEYS[k]) end
if not taken then return {1, 0, '', 0} end
if ARGV[3] == 'leave' and string.sub(taken, 1, string.len(ARGV[6])) == ARGV[6] then return {1, 1, taken, 0} end
local written = 1
for i = k + 1, #KEYS do
  local a = 7 + (i - k - 1) * 3
  local value = ARGV[a]
  if ARGV[a + 2] == '1' then value = value .. taken end
  if not redis.call('SET', KEYS[i], value, 'PX', ARGV[a + 1], 'NX') then written = 0 end
end
return {1, 1, taken, written}`;

type ScriptedClient = (Redis | Cluster) & {
  pgwIncrement(key: string, windowMs: number, by: number): Promise<[number, number]>;
  pgwStep(numberOfKeys: number, ...keysAndArgs: (string | number)[]): Promise<[number, number, string, number]>;
};

export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

/** Where Redis is: one server (URL), a Sentinel-watched primary, or a Cluster (docs/scale-out.md). */
export type RedisTarget =
  | { readonly kind: 'url'; readonly url: string }
  | { readonly kind: 'sentinel'; readonly sentinels: readonly RedisNode[]; readonly name: string }
  | { readonly kind: 'cluster'; readonly nodes: readonly RedisNode[] };

export function createClient(target: RedisTarget, extra: RedisOptions): Redis | Cluster {
  const options = { ...redisOptions, ...extra } as RedisOptions & { replyMapping?: never };
  switch (target.kind) {
    case 'url':
      return new Redis(target.url, options);
    case 'sentinel':
      // ioredis asks the sentinels for the current primary, and again after a failover.
      return new Redis({ ...options, sentinels: [...target.sentinels], name: target.name });
    case 'cluster': {
      // The same fail-fast policy, split the way ioredis takes it: per-node options, cluster-wide options.
      const { keyPrefix, enableOfflineQueue, enableAutoPipelining, lazyConnect, retryStrategy, ...perNode } = options;
      const clusterOptions: ClusterOptions & { redisOptions: typeof perNode & { replyMapping?: never } } = {
        enableOfflineQueue,
        enableAutoPipelining,
        lazyConnect,
        clusterRetryStrategy: retryStrategy,
        redisOptions: perNode,
        ...(keyPrefix === undefined ? {} : { keyPrefix }),
      };
      return new Cluster([...target.nodes], clusterOptions);
    }
  }
}

export class RedisKv implements Kv {
  private readonly scripted: ScriptedClient;

  constructor(readonly client: Redis | Cluster) {
    client.defineCommand('pgwIncrement', { numberOfKeys: 1, lua: INCREMENT_SCRIPT });
    client.defineCommand('pgwStep', { lua: STEP_SCRIPT });
    this.scripted = client as ScriptedClient;
  }

  static async connect(url: string, options: RedisOptions = {}): Promise<RedisKv> {
    return RedisKv.open({ kind: 'url', url }, options);
  }

  static async open(target: RedisTarget, options: RedisOptions = {}): Promise<RedisKv> {
    const client = createClient(target, options);
    // A Redis that is down at start must not stop the process: it keeps
    // retrying in the background and logins answer 503 until it is back.
    client.on('error', () => undefined);
    await client.connect().catch(() => undefined);
    return new RedisKv(client);
  }

  async get(key: string): Promise<string | null> {
    return this.run(() => this.client.get(key));
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    assertTtl(ttlMs);
    await this.run(() => this.client.set(key, value, 'PX', ttlMs));
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    assertTtl(ttlMs);
    return (await this.run(() => this.client.set(key, value, 'PX', ttlMs, 'NX'))) === 'OK';
  }

  async take(key: string): Promise<string | null> {
    return this.run(() => this.client.getdel(key));
  }

  async swap(key: string, value: string, ttlMs: number): Promise<string | null> {
    assertTtl(ttlMs);
    // SET ... XX GET (Redis >= 6.2): one step, so two concurrent redemptions
    // cannot both read the original value.
    return this.run(() => this.client.set(key, value, 'PX', ttlMs, 'XX', 'GET'));
  }

  async increment(key: string, windowMs: number, by = 1): Promise<{ count: number; ttlMs: number }> {
    assertTtl(windowMs);
    assertCount(by);
    const [count, ttlMs] = await this.run(() => this.scripted.pgwIncrement(key, windowMs, by));
    return { count, ttlMs };
  }

  async del(key: string): Promise<void> {
    await this.run(() => this.client.del(key));
  }

  async touch(key: string, ttlMs: number): Promise<boolean> {
    assertTtl(ttlMs);
    return (await this.run(() => this.client.pexpire(key, ttlMs))) === 1;
  }

  async step(step: SingleUseStep): Promise<StepResult> {
    // A Cluster keeps the keys of one step on different nodes: there the parts run one key at a time.
    if (this.client instanceof Cluster) return stepByParts(this, step);
    assertStep(step);
    const { claim, take, put } = step;
    const keys = [...(claim ? [claim.key] : []), take.key, ...put.map((p) => p.key)];
    const args = [
      claim ? '1' : '0', claim?.ttlMs ?? 0,
      take.leave ? 'leave' : 'del', take.leave?.value ?? '', take.leave?.ttlMs ?? 0, take.leave?.usedPrefix ?? '',
      ...put.flatMap((p) => [p.value, p.ttlMs, p.appendTaken ? '1' : '0']),
    ];
    const [fresh, found, taken, written] = await this.run(() => this.scripted.pgwStep(keys.length, ...keys, ...args));
    return { fresh: fresh === 1, taken: found === 1 ? taken : null, written: written === 1 };
  }

  async ping(): Promise<void> {
    await this.run(() => this.client.ping());
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }

  private async run<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (err) {
      if ((err as Error).message === COMMAND_TIMED_OUT) this.dropStalledConnection();
      throw new UnavailableError(err);
    }
  }

  /**
   * A command that timed out means Redis stopped answering on this connection
   * (a long command, a paused server, a stalled network). Every command behind
   * it, sent or gathered in the next auto-pipeline (which waits for the running
   * one), would wait out a timeout of its own, and a request's commands one
   * after another: drop the connection instead, so all of them fail now. While
   * ioredis reconnects, new commands fail at once (no offline queue), also
   * against a stalled server, whose ready check waits until it answers again.
   * So a request waits on a stalled Redis at most one command timeout.
   */
  private dropStalledConnection(): void {
    // destroy(), not disconnect(): that ends the socket politely and waits for a server that
    // is not answering (ioredis gives it 2 s), leaving the commands on it to their timeouts.
    const connections = this.client instanceof Cluster ? this.client.nodes() : [this.client];
    for (const connection of connections) if (connection.status === 'ready') connection.stream.destroy();
  }
}
