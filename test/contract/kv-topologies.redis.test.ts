import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { openKv } from '../../src/store/open-kv.js';
import { RedisKv } from '../../src/store/redis-kv.js';
import { fullLogin } from '../helpers/browser.js';
import { makeWorld, PUPIL, REKEN_CB } from '../helpers/fixture.js';
import { startGateway } from '../helpers/gateway.js';
import { TestPublisher } from '../helpers/publisher.js';
import { startCluster, startSentinel, type SentinelTopology, type Topology } from '../helpers/redis-topologies.js';
import { defineKvContract } from './kv-contract.js';

// The KV contract and a whole login on Redis behind Sentinel and on a Redis
// Cluster, each started here as throwaway loopback servers, configured the way
// an operator would (REDIS_SENTINELS + REDIS_SENTINEL_NAME, REDIS_CLUSTER_NODES).
// On a Cluster every KV operation names one key, so no hash tags are needed;
// the contract (including the increment script) proves it. A forced Sentinel
// failover shows logins failing closed and then resuming on the new primary.

const prefix = () => `pgwtest:${randomBytes(6).toString('hex')}:`;
const nodeList = (nodes: { host: string; port: number }[]) => nodes.map((n) => `${n.host}:${n.port}`).join(',');

function defineTopologySuite(start: () => Promise<{ topology: Topology; env: Record<string, string> }>) {
  let topology: Topology;
  let env: Record<string, string>;
  beforeAll(async () => {
    ({ topology, env } = await start());
  }, 60_000);
  afterAll(async () => {
    await topology?.stop();
  });

  describe('KV contract', () => {
    defineKvContract(async () => {
      const kv = (await openKv(loadConfig({ ...env, REDIS_KEY_PREFIX: prefix() }))) as RedisKv;
      await kv.ping();
      return { kv, ttlOf: (key) => kv.client.pttl(key) };
    });
  });

  it('logs a pupil in through the gateway', async () => {
    const world = await makeWorld();
    const kv = await openKv(loadConfig({ ...env, REDIS_KEY_PREFIX: prefix() }));
    expect(kv).toBeInstanceOf(RedisKv);
    const gateway = await startGateway({ seed: world.seed, kv });
    try {
      const reken = await TestPublisher.create(gateway.url, 'rekenapp', REKEN_CB, { key: world.rekenKey });
      const first = await fullLogin(gateway, world.regenboog, reken, PUPIL);
      const again = await fullLogin(gateway, world.regenboog, reken, PUPIL);
      expect(again.claims.sub).toBe(first.claims.sub);
    } finally {
      await gateway.close();
    }
  });
}

describe('Redis behind Sentinel', () => {
  defineTopologySuite(async () => {
    const topology = await startSentinel('pgwtest');
    return { topology, env: { REDIS_SENTINELS: nodeList(topology.sentinels), REDIS_SENTINEL_NAME: 'pgwtest' } };
  });
});

describe('a Sentinel failover under logins', () => {
  let topology: SentinelTopology | undefined;
  afterAll(async () => {
    await topology?.stop();
  });

  it('logins fail closed (503, never 500) while the primary changes, then go on against the promoted replica', async () => {
    topology = await startSentinel('pgwfail');
    const world = await makeWorld();
    const kv = await openKv(loadConfig({ REDIS_SENTINELS: nodeList(topology.sentinels), REDIS_SENTINEL_NAME: 'pgwfail', REDIS_KEY_PREFIX: prefix() }));
    const gateway = await startGateway({ seed: world.seed, kv });
    try {
      const reken = await TestPublisher.create(gateway.url, 'rekenapp', REKEN_CB, { key: world.rekenKey });
      const before = await fullLogin(gateway, world.regenboog, reken, PUPIL);
      expect(await topology.currentPrimary()).toBe(topology.primaryPort);
      await topology.failover();
      // Bounded: until a whole login succeeds again. Every attempt either succeeds or fails closed: 503
      // (temporarily_unavailable at /token), or, for a write the old primary took and never replicated
      // (docs/scale-out.md), a refused step of that one login (login_expired, invalid_grant).
      const deadline = Date.now() + 30_000;
      let after: Awaited<ReturnType<typeof fullLogin>> | undefined;
      while (!after) {
        if (Date.now() > deadline) throw new Error('no login succeeded within 30 s of the failover');
        after = await fullLogin(gateway, world.regenboog, reken, PUPIL).catch((err: unknown) => {
          expect(String(err)).toMatch(/answered 503|temporarily_unavailable|login_expired|invalid_grant/);
          return undefined;
        });
        if (!after) await new Promise((r) => setTimeout(r, 200));
      }
      expect(after.claims.sub).toBe(before.claims.sub);
      expect(await topology.currentPrimary()).toBe(topology.replicaPort);
      expect(gateway.logs.filter((l) => l.includes('"statusCode":500'))).toEqual([]);
    } finally {
      await gateway.close();
    }
  }, 90_000);
});

describe('Redis Cluster (three primaries)', () => {
  defineTopologySuite(async () => {
    const topology = await startCluster();
    return { topology, env: { REDIS_CLUSTER_NODES: nodeList(topology.nodes) } };
  });
});
