// The peers' signatures in the benchmark (school IdP, publisher), made with
// node:crypto synchronously: in real life they sign on their own machines, so
// the load generator should spend as little of the shared CPU on them as it can.
import { KeyObject, sign } from 'node:crypto';
import type { CryptoKey } from 'jose';

const keyObjects = new WeakMap<CryptoKey, KeyObject>();
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export function signEs256(header: Record<string, unknown>, payload: Record<string, unknown>, key: CryptoKey): string {
  let keyObject = keyObjects.get(key);
  if (!keyObject) keyObjects.set(key, (keyObject = KeyObject.from(key)));
  const input = `${b64({ alg: 'ES256', ...header })}.${b64(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), { key: keyObject, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
}
