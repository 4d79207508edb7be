import { describe, expect, it } from 'vitest';
import { UnavailableError } from '../../src/errors.js';
import { MemoryKv } from '../../src/store/memory-kv.js';
import { defineKvContract } from './kv-contract.js';

describe('KV contract: in-memory adapter', () => {
  defineKvContract(async () => ({ kv: new MemoryKv() }));
});

describe('in-memory adapter bounds', () => {
  it('fails closed with UnavailableError when full, and accepts writes again once entries expire', async () => {
    let now = 0;
    const kv = new MemoryKv({ now: () => now }, 3);
    await kv.set('a', '1', 1000);
    await kv.set('b', '1', 1000);
    await kv.set('c', '1', 5000);
    await kv.set('a', '2', 1000); // overwriting an existing key needs no room
    await expect(kv.set('d', '1', 1000)).rejects.toBeInstanceOf(UnavailableError);
    await expect(kv.setIfAbsent('d', '1', 1000)).rejects.toBeInstanceOf(UnavailableError);
    now = 2000;
    await kv.set('d', '1', 1000);
    expect(await kv.get('d')).toBe('1');
    await kv.close();
  });
});
