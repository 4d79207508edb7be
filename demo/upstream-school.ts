import { randomBytes } from 'node:crypto';
import { startUpstreamIdp, type UpstreamIdp } from '../support/upstream-idp.js';

// The demo's third school: its pupils log in with the accounts they already
// have, at the school's own OpenID provider (oidc-provider standing in for
// Microsoft Entra ID or Google Workspace, docs/upstream-oidc.md). The gateway
// finds them on the school's roster, which the demo imports at start through
// the admin API, as a school administration system would send it.

export const ZONNEBLOEM = { id: '99ZB', name: 'Kindcentrum De Zonnebloem', slug: 'zonnebloem' } as const;

const TENANT = 'zonnebloem-tenant';

/** The roster the school's administration system sends (docs/roster.md). */
export const ZONNEBLOEM_ROSTER = [
  {
    studentKey: 'zb-3001', logins: ['fleur@zonnebloem.example'], role: 'student', given_name: 'Fleur', family_name: 'Smit',
    birthdate: '2016-06-14', gender: 'female', groups: [{ key: 'zb-6a', name: 'Groep 6A', grade: 6 }],
  },
  {
    studentKey: 'zb-3002', logins: ['ayoub@zonnebloem.example'], role: 'student', given_name: 'Ayoub', tussenvoegsel: 'el', family_name: 'Idrissi',
    birthdate: '2014-01-09', gender: 'male', groups: [{ key: 'zb-8', name: 'Groep 8', grade: 8 }],
  },
];

/** The accounts at the school's provider: e-mail addresses, the claim the school registered as identity. */
const ACCOUNTS = [
  { id: 'fleur', label: 'Fleur Smit (fleur@zonnebloem.example)', claims: { email: 'fleur@zonnebloem.example', tid: TENANT, given_name: 'Fleur', family_name: 'Smit' } },
  { id: 'ayoub', label: 'Ayoub el Idrissi (ayoub@zonnebloem.example)', claims: { email: 'ayoub@zonnebloem.example', tid: TENANT, given_name: 'Ayoub', family_name: 'el Idrissi' } },
  { id: 'gast', label: 'Een gast die niet op de leerlingenlijst staat / a guest not on the roster', claims: { email: 'gast@zonnebloem.example', tid: TENANT } },
];

export interface UpstreamSchool {
  readonly idp: UpstreamIdp;
  /** The school's registration and licences, for the gateway's seed file. */
  readonly school: object;
  readonly licences: object[];
}

/** Start the school's provider with the gateway registered as its client. */
export async function startUpstreamSchool(gatewayUrl: string, port: number | undefined): Promise<UpstreamSchool> {
  const clientSecret = randomBytes(24).toString('base64url');
  const idp = await startUpstreamIdp({
    ...(port === undefined ? {} : { port }),
    title: `${ZONNEBLOEM.name}: inloggen met je schoolaccount`,
    accounts: ACCOUNTS,
    clients: [{
      client_id: 'pseudonym-gateway', client_secret: clientSecret, redirect_uris: [`${gatewayUrl}/school/oidc/callback`],
      grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic',
    }],
  });
  return {
    idp,
    school: {
      id: ZONNEBLOEM.id, name: ZONNEBLOEM.name, roster: 'required',
      login: { kind: 'oidc', issuer: idp.issuer, clientId: 'pseudonym-gateway', clientSecret, scopes: ['openid', 'email', 'profile'], identityClaim: 'email', require: { tid: TENANT } },
    },
    licences: [
      { school: ZONNEBLOEM.id, client: 'rekenmeester', claims: ['school', 'grade', 'groups'] },
      { school: ZONNEBLOEM.id, client: 'taalkanjer', claims: ['school', 'role', 'grade', 'given_name'] },
    ],
  };
}

/** Send the school's roster through the admin API (a full sync). */
export async function importRoster(gatewayUrl: string, token: string): Promise<void> {
  const res = await fetch(`${gatewayUrl}/admin/v1/schools/${ZONNEBLOEM.id}/roster`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ people: ZONNEBLOEM_ROSTER }),
  });
  if (res.status !== 200) throw new Error(`roster import answered ${res.status}: ${await res.text()}`);
}
