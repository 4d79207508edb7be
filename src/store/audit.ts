import { randomUUID } from 'node:crypto';
import type { Queryable } from './db.js';
import type { Page } from './registrations.js';

// Audit events (docs/privacy.md): who changed what, when, before and
// after. Written in the transaction of the change itself. Documents never
// carry a secret: clients hold only a secret hash, tokens only their id.

export interface AuditInput {
  /** An admin token id, 'bootstrap', 'seed' or 'cli'. */
  actor: string;
  /** The school the change concerns, if any: what a school admin may read. */
  school: string | null;
  action: string;
  target: string;
  before: unknown;
  after: unknown;
}

export interface AuditEvent extends AuditInput {
  id: string;
  at: string;
}

export async function recordAudit(tx: Queryable, event: AuditInput): Promise<void> {
  await tx.query(
    'INSERT INTO audit_events (id, at, actor, school_id, action, target, before, after) VALUES ($1, now(), $2, $3, $4, $5, $6::jsonb, $7::jsonb)',
    [randomUUID(), event.actor, event.school, event.action, event.target, jsonOrNull(event.before), jsonOrNull(event.after)],
  );
}

const jsonOrNull = (value: unknown): string | null => (value === undefined || value === null ? null : JSON.stringify(value));

interface AuditRow {
  id: string;
  at: Date;
  actor: string;
  school_id: string | null;
  action: string;
  target: string;
  before: unknown;
  after: unknown;
}

/** Newest first; `school` limits the list to one school's events. */
export async function listAudit(q: Queryable, school: string | undefined, page: Page): Promise<{ items: AuditEvent[]; total: number }> {
  const where = school === undefined ? '' : 'WHERE school_id = $3';
  const params = school === undefined ? [page.limit, page.offset] : [page.limit, page.offset, school];
  const rows = await q.query<AuditRow>(`SELECT id, at, actor, school_id, action, target, before, after FROM audit_events ${where} ORDER BY at DESC, id LIMIT $1 OFFSET $2`, params);
  const [count] = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_events ${where.replace('$3', '$1')}`, school === undefined ? [] : [school]);
  return {
    items: rows.map((r) => ({ id: r.id, at: r.at.toISOString(), actor: r.actor, school: r.school_id, action: r.action, target: r.target, before: r.before, after: r.after })),
    total: count?.n ?? 0,
  };
}
