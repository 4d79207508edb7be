import { decrypt, encrypt, randomToken } from '../crypto/tokens.js';

// The login id: what the school's answer carries back (the assertion's
// `nonce`, an upstream provider's `state`, a SAML request's ID) and what the
// pending login is parked under (src/login/pending.ts). It is 256 random bits
// followed by the ids of the client the login is for and of the school it was
// sent to, sealed (AES-256-GCM) under k_login (docs/pseudonyms.md) and bound
// to the random part. So the gateway knows from the answer alone whom the
// login is for, checks the answering school and decides the release before it
// takes the pending login: the take and the writes of the code and the
// session are then one step (docs/redis-keys.md, "Single-use steps"). The
// school learns nothing from it (it cannot open the seal), and nobody can make
// one.

const RANDOM_LENGTH = 43;
/**
 * The random part, then the seal (at least its 28 bytes and three of the ids: 42 characters). A login id
 * of the random part alone, as the gateway made them before it sealed the client in, still names its
 * pending login (for the 300 s a pending login lives across an upgrade); it carries no client.
 */
export const LOGIN_ID = /^[A-Za-z0-9_-]{43}(?:[A-Za-z0-9_-]{42,300})?$/;

/** Whom a login is for: the client's id and the id of the school the pupil was sent to. */
export interface LoginFor {
  readonly clientId: string;
  readonly school: string;
}

// Neither id holds a line break (client ids are slugs, school ids letters and digits).
const SEPARATOR = '\n';

export function newLoginId(key: Buffer, { clientId, school }: LoginFor): string {
  const random = randomToken();
  return random + encrypt(key, Buffer.from(`${clientId}${SEPARATOR}${school}`, 'utf8'), Buffer.from(random)).toString('base64url');
}

/** Whom a login id was made for; undefined for anything the gateway did not make. */
export function loginFor(key: Buffer, loginId: string): LoginFor | undefined {
  if (!LOGIN_ID.test(loginId)) return undefined;
  const random = loginId.slice(0, RANDOM_LENGTH);
  const plain = decrypt(key, Buffer.from(loginId.slice(RANDOM_LENGTH), 'base64url'), Buffer.from(random))?.toString('utf8');
  const cut = plain?.indexOf(SEPARATOR) ?? -1;
  if (plain === undefined || cut < 1 || cut === plain.length - 1) return undefined;
  return { clientId: plain.slice(0, cut), school: plain.slice(cut + 1) };
}
