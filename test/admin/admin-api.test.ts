import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { adminClient } from '../helpers/admin.js';
import { pgliteTestDb } from '../helpers/db.js';
import { makeWorld } from '../helpers/fixture.js';
import { startGateway } from '../helpers/gateway.js';
import { freePort } from '../helpers/net.js';
import { BOOTSTRAP, defineAdminApiSuite } from './admin-api-suite.js';

describe('admin API on PGlite', () => defineAdminApiSuite(pgliteTestDb));

describe('OPERATOR_BOOTSTRAP_TOKEN in production', () => {
  it('works as an operator token and logs a warning on each use, only when NODE_ENV=production', async () => {
    const seed = (await makeWorld()).seed;
    for (const NODE_ENV of ['production', 'development']) {
      const store = await pgliteTestDb();
      const gateway = await startGateway({ seed, db: store.db, env: { NODE_ENV, OPERATOR_BOOTSTRAP_TOKEN: BOOTSTRAP, PSEUDONYM_MASTER_KEY: randomBytes(32).toString('base64') } });
      try {
        expect((await adminClient(gateway.url, BOOTSTRAP).get('/schools')).status).toBe(200);
        const warnings = gateway.logs.filter((l) => l.includes('OPERATOR_BOOTSTRAP_TOKEN used in production'));
        expect({ NODE_ENV, warnings: warnings.length }).toEqual({ NODE_ENV, warnings: NODE_ENV === 'production' ? 1 : 0 });
        expect(gateway.logs.join('\n')).not.toContain(BOOTSTRAP);
      } finally {
        await gateway.close();
      }
    }
  }, 60_000);
});

describe('change notices with Redis unreachable', () => {
  it('starts, and admin changes still commit and reach this process (notices are best effort)', async () => {
    const store = await pgliteTestDb();
    const gateway = await startGateway({ seed: (await makeWorld()).seed, db: store.db, env: { OPERATOR_BOOTSTRAP_TOKEN: BOOTSTRAP, REDIS_URL: `redis://127.0.0.1:${await freePort()}` } });
    try {
      const operator = adminClient(gateway.url, BOOTSTRAP);
      expect((await operator.post('/suppliers', { id: 'uitgever-n', name: 'N' })).status).toBe(201);
      expect(gateway.registryOf().suppliers.has('uitgever-n')).toBe(true);
    } finally {
      await gateway.close();
    }
  }, 60_000);
});
