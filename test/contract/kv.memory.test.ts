import { describe } from 'vitest';
import { MemoryKv } from '../../src/store/memory-kv.js';
import { defineKvContract } from './kv-contract.js';

describe('KV contract: in-memory adapter', () => {
  defineKvContract(async () => ({ kv: new MemoryKv() }));
});
