import { randomBytes, randomUUID } from 'node:crypto';
import { sha256 } from '../crypto/tokens.js';
import type { Queryable } from './db.js';

// Admin bearer tokens: 256 random bits, shown once; only their SHA-256 is
// stored. Looking a token up by its hash reveals nothing about the token
// through timing (the hash of a guess is unrelated to the stored hashes).

export const TOKEN_PREFIX = 'pgwa_';

export interface AdminToken {
  id: string;
  /** null: an operator token. */
  school: string | null;
  label: string;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
}

interface TokenRow {
  id: string;
  school_id: string | null;
  label: string;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
}

const COLUMNS = 'id, school_id, label, created_at, expires_at, revoked_at';
const toToken = (r: TokenRow): AdminToken => ({
  id: r.id,
  school: r.school_id,
  label: r.label,
  createdAt: r.created_at.toISOString(),
  expiresAt: r.expires_at.toISOString(),
  revokedAt: r.revoked_at?.toISOString() ?? null,
});

export const hashToken = (token: string): Buffer => sha256(token);

/** Create a token; the returned secret is the only copy there will ever be. */
export async function createAdminToken(tx: Queryable, input: { school: string | null; label: string; expiresAt: Date }): Promise<{ token: AdminToken; secret: string }> {
  const secret = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const rows = await tx.query<TokenRow>(
    `INSERT INTO admin_tokens (id, hash, school_id, label, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
    [randomUUID(), hashToken(secret), input.school, input.label, input.expiresAt],
  );
  return { token: toToken(rows[0]!), secret };
}

/** The token a bearer secret names, if it exists (revoked and expired ones included: the caller decides). */
export async function findAdminToken(q: Queryable, secret: string): Promise<AdminToken | undefined> {
  const rows = await q.query<TokenRow>(`SELECT ${COLUMNS} FROM admin_tokens WHERE hash = $1`, [hashToken(secret)]);
  return rows[0] && toToken(rows[0]);
}

/** `school` undefined: every token; null: operator tokens; else that school's. */
export async function listAdminTokens(q: Queryable, school: string | null | undefined): Promise<AdminToken[]> {
  if (school === undefined) return (await q.query<TokenRow>(`SELECT ${COLUMNS} FROM admin_tokens ORDER BY created_at, id`)).map(toToken);
  const rows = school === null
    ? await q.query<TokenRow>(`SELECT ${COLUMNS} FROM admin_tokens WHERE school_id IS NULL ORDER BY created_at, id`)
    : await q.query<TokenRow>(`SELECT ${COLUMNS} FROM admin_tokens WHERE school_id = $1 ORDER BY created_at, id`, [school]);
  return rows.map(toToken);
}

/** Revoke a token of `school` (null: an operator token); returns it before and after, or undefined when absent. */
export async function revokeAdminToken(tx: Queryable, school: string | null, id: string): Promise<{ before: AdminToken; after: AdminToken } | undefined> {
  const scope = school === null ? 'school_id IS NULL' : 'school_id = $2';
  const params = school === null ? [id] : [id, school];
  const before = await tx.query<TokenRow>(`SELECT ${COLUMNS} FROM admin_tokens WHERE id = $1 AND ${scope} FOR UPDATE`, params);
  if (!before[0]) return undefined;
  const after = await tx.query<TokenRow>(`UPDATE admin_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING ${COLUMNS}`, [id]);
  return { before: toToken(before[0]), after: toToken(after[0]!) };
}
