// The cryptography of one warm login, measured alone (no HTTP, no Redis):
// two inbound ES256 verifications (school assertion, client assertion), two
// ES256 signatures (login request, id_token), the pseudonym and ref HMACs, sealing
// and unsealing the code and access token, the token hashes and random values.
//   npx tsx bench/crypto.ts
import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { decodeUntrusted, signJwt } from '../src/crypto/jws.js';
import { createKeySchedule } from '../src/crypto/key-schedule.js';
import { groupPseudonym, studentRef, subjectPseudonym, type PupilRoot } from '../src/crypto/pseudonym.js';
import { generateSigningKey } from '../src/crypto/signing-keys.js';
import { randomToken, seal, tokenHash, unseal } from '../src/crypto/tokens.js';
import { verifyJwsSignature } from '../src/crypto/verify-jws.js';

export async function measureLoginCrypto(iterations = 3000): Promise<number> {
  const { key } = await generateSigningKey();
  const school = await generateKeyPair('ES256', { extractable: true });
  const keys = createLocalJWKSet({ keys: [{ ...(await exportJWK(school.publicKey)), kid: 's', alg: 'ES256' }] });
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ sub: '4711', school: '12AB', nonce: 'n' })
    .setProtectedHeader({ alg: 'ES256', kid: 's', typ: 'school-assertion+jwt' }).setIssuedAt(now).setExpirationTime(now + 60).sign(school.privateKey);
  const schedule = createKeySchedule(randomBytes(32));
  const root = randomBytes(32) as PupilRoot;
  const claims = { school: '12AB', grade: 8, groups: ['x'.repeat(32)] };

  async function oneLogin(): Promise<void> {
    const nonce = randomToken();
    tokenHash(nonce);
    signJwt(key, 'school-login-request+jwt', { iss: 'gw', aud: 'school', nonce, iat: now, exp: now + 300 });
    for (let i = 0; i < 2; i++) {
      const decoded = decodeUntrusted(token)!;
      await verifyJwsSignature(token, decoded.header, keys);
    }
    studentRef(schedule, root);
    const supplierKey = schedule.supplier('uitgever-a', 1);
    const sub = subjectPseudonym(supplierKey, root);
    groupPseudonym(supplierKey, '12AB', '8a');
    const code = randomToken();
    const at = randomToken();
    unseal(code, seal(code, { sub, claims }));
    unseal(at, seal(at, { sub, claims }));
    for (const t of [code, at, code, at, 'jti-1', 'jti-2']) tokenHash(t);
    signJwt(key, 'JWT', { iss: 'gw', aud: 'client', sub, iat: now, exp: now + 300, ...claims });
  }

  for (let i = 0; i < 300; i++) await oneLogin();
  const cpu = process.cpuUsage();
  for (let i = 0; i < iterations; i++) await oneLogin();
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / iterations / 1000;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`crypto of one warm login: ${(await measureLoginCrypto()).toFixed(3)} ms CPU`);
}
