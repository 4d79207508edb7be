import { z } from 'zod';
import type { Queryable } from '../store/db.js';
import { getRegistration } from '../store/registrations.js';
import type { StoredClient } from '../store/seed-file.js';
import { clientSchema, ROSTER_MODES, schoolSchema, supplierSchema, type ClientReg, type SchoolReg, type SupplierReg } from '../store/seed-schema.js';
import { describeClient, toStoredClient } from '../store/seed-import.js';
import { withGeneratedSecret } from '../store/client-secrets.js';
import type { RegistrationResource } from './registration-routes.js';
import { ruleViolation } from './problem.js';
import { schoolIdParam, slugParam } from './schemas.js';

// The three operator-managed registrations.

const withoutSecret = ({ clientSecret: _secret, ...login }: Extract<NonNullable<SchoolReg['login']>, { kind: 'oidc' }>) => login;

const jwksView = z.object({ keys: z.array(z.looseObject({ kty: z.string(), kid: z.string() })) });

export const schoolResource: RegistrationResource<SchoolReg, SchoolReg> = {
  kind: 'school',
  plural: 'schools',
  param: 'schoolId',
  paramSchema: schoolIdParam,
  body: schoolSchema,
  view: z.object({
    id: z.string(),
    name: z.string(),
    allowLaunch: z.boolean().optional(),
    login: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('assertion'), issuer: z.string(), loginUrl: z.string(), jwks: jwksView.optional(), jwksUri: z.string().optional() }),
      // The upstream client secret is never shown (docs/upstream-oidc.md).
      z.object({
        kind: z.literal('oidc'), issuer: z.string(), clientId: z.string(), clientAuth: z.string().optional(), scopes: z.array(z.string()).optional(),
        identityClaim: z.string(), require: z.record(z.string(), z.string()).optional(),
      }),
    ]).optional(),
    roster: z.enum(ROSTER_MODES).optional(),
    issuer: z.string().optional(),
    loginUrl: z.string().optional(),
    jwks: jwksView.optional(),
    jwksUri: z.string().optional(),
  }),
  idField: 'id',
  idOf: (s) => s.id,
  readAccess: 'school',
  toStored: (s) => s,
  // Audit records hold the view: no upstream client secret there either.
  toView: ({ login, ...s }) => (login ? { ...s, login: login.kind === 'oidc' ? withoutSecret(login) : login } : s),
  schoolOf: (id) => id,
};

export const supplierResource: RegistrationResource<SupplierReg, SupplierReg> = {
  kind: 'supplier',
  plural: 'suppliers',
  param: 'supplierId',
  paramSchema: slugParam,
  body: supplierSchema,
  view: z.object({ id: z.string(), name: z.string(), keyVersion: z.number().int(), previousKeyVersion: z.number().int().optional(), rotationUntil: z.string().optional() }),
  idField: 'id',
  idOf: (s) => s.id,
  readAccess: 'operator',
  toStored: (s) => s,
  toView: (s) => s,
  schoolOf: () => null,
};

async function checkClient(tx: Queryable, client: ClientReg): Promise<void> {
  if (!(await getRegistration(tx, 'supplier', client.supplier))) {
    throw ruleViolation('unknown_reference', 422, 'The client names an unknown supplier', 'supplier', 'no such supplier');
  }
  // Narrowing the ceiling may not leave a licence releasing more than the client may receive.
  const outside = await tx.query<{ id: string }>(
    `SELECT id FROM licences WHERE client_id = $1 AND EXISTS (
       SELECT 1 FROM jsonb_array_elements_text(doc->'claims') AS c(claim) WHERE NOT (c.claim = ANY($2::text[])))`,
    [client.clientId, client.claims],
  );
  if (outside.length) {
    throw ruleViolation('claims_outside_ceiling', 409, "Licences of this client release claims outside the new ceiling", 'claims', `${outside.length} licence(s) would exceed it; change them first`);
  }
}

export const clientResource: RegistrationResource<ClientReg, StoredClient> = {
  kind: 'client',
  plural: 'clients',
  param: 'clientId',
  paramSchema: slugParam,
  body: clientSchema,
  view: z.object({
    clientId: z.string(),
    supplier: z.string(),
    name: z.string(),
    redirectUris: z.array(z.string()),
    initiateLoginUri: z.string().optional(),
    jwks: jwksView.optional(),
    jwksUri: z.string().optional(),
    claims: z.array(z.string()),
    authMethod: z.enum(['private_key_jwt', 'client_secret_basic']),
    // Only in the answer to the request that asked for it with "generate": never stored, never shown again.
    clientSecret: z.string().optional(),
  }),
  idField: 'clientId',
  idOf: (c) => c.clientId,
  readAccess: 'operator',
  toStored: toStoredClient,
  prepare: (reg) => {
    const { reg: filled, secret } = withGeneratedSecret(reg);
    return secret === undefined ? { reg: filled } : { reg: filled, shown: { clientSecret: secret } };
  },
  // The secret hash stays inside: neither responses nor audit events carry it.
  toView: describeClient,
  schoolOf: () => null,
  check: checkClient,
  supplierOf: (c) => c.supplier,
};
