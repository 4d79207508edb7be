import type { DemoKeys } from './keys.js';

// The made-up world of the demo: two schools, their pupils and a teacher, two
// publishers of different suppliers, and the schools' licences.

export interface DemoPerson {
  readonly key: string;
  readonly role: 'student' | 'teacher';
  readonly given_name: string;
  readonly family_name: string;
  readonly tussenvoegsel?: string;
  readonly birthdate?: string;
  readonly groups: { key: string; name: string; grade?: number }[];
  readonly grade?: number;
}

export interface DemoSchool {
  readonly slug: 'regenboog' | 'kompas';
  readonly id: string;
  readonly name: string;
  readonly people: readonly DemoPerson[];
}

export const SCHOOLS: readonly DemoSchool[] = [
  {
    slug: 'regenboog', id: '99DR', name: 'Basisschool De Regenboog',
    people: [
      { key: 'rb-1001', role: 'student', given_name: 'Sanne', family_name: 'Vries', tussenvoegsel: 'de', birthdate: '2017-04-12', groups: [{ key: 'rb-5a', name: 'Groep 5A', grade: 5 }] },
      { key: 'rb-1002', role: 'student', given_name: 'Daan', family_name: 'Bakker', birthdate: '2014-09-30', groups: [{ key: 'rb-8b', name: 'Groep 8B', grade: 8 }] },
      { key: 'rb-1003', role: 'student', given_name: 'Noor', family_name: 'El Amrani', birthdate: '2015-11-02', groups: [{ key: 'rb-67', name: 'Groep 6/7', grade: 6 }], grade: 7 },
      { key: 'rb-t01', role: 'teacher', given_name: 'Anouk', family_name: 'Visser', groups: [{ key: 'rb-5a', name: 'Groep 5A', grade: 5 }] },
    ],
  },
  {
    slug: 'kompas', id: '99HK', name: 'OBS Het Kompas',
    people: [
      { key: 'hk-2001', role: 'student', given_name: 'Mila', family_name: 'Jansen', birthdate: '2018-02-21', groups: [{ key: 'hk-4', name: 'Groep 4', grade: 4 }] },
    ],
  },
];

/** A school behind a SAML identity provider (demo/saml-school.ts), as one behind Entree; no roster: the uid is the pupil key. */
export const SAML_SCHOOL = {
  id: '99VT', name: 'Het Vuurtoren College',
  people: [
    { uid: 'vt-3001', givenName: 'Lotte', sn: 'Mulder', affiliation: 'student' },
    { uid: 'vt-t01', givenName: 'Bram', sn: 'Kok', affiliation: 'employee' },
  ],
} as const;

export const samlEntityId = (urls: DemoUrls) => `${urls.school}/saml`;

export interface DemoUrls {
  readonly gateway: string;
  readonly school: string;
  readonly rekenmeester: string;
  readonly taalkanjer: string;
  readonly home: string;
}

export const schoolIssuer = (urls: DemoUrls, school: DemoSchool) => `${urls.school}/${school.slug}`;

export interface DemoPublisher {
  readonly clientId: 'rekenmeester' | 'taalkanjer';
  readonly name: string;
  readonly supplier: string;
  readonly supplierName: string;
  readonly accent: string;
  /** Offers OIDC third-party-initiated login (the school portal's tile). */
  readonly launch: boolean;
}

export const PUBLISHERS: readonly DemoPublisher[] = [
  { clientId: 'rekenmeester', name: 'Rekenmeester', supplier: 'uitgeverij-rekenwijs', supplierName: 'Uitgeverij Rekenwijs', accent: '#b3261e', launch: true },
  { clientId: 'taalkanjer', name: 'Taalkanjer', supplier: 'taaluitgevers', supplierName: 'Taaluitgevers', accent: '#1e6b30', launch: false },
];

/** The gateway's seed file (docs/registrations.md) for this world. */
export function demoSeed(urls: DemoUrls, keys: DemoKeys) {
  const schoolKeys = { regenboog: keys.regenboog.publicJwk, kompas: keys.kompas.publicJwk };
  return {
    schools: [
      ...SCHOOLS.map((s) => ({
        id: s.id, name: s.name, allowLaunch: true, issuer: schoolIssuer(urls, s), loginUrl: `${schoolIssuer(urls, s)}/login`, jwks: { keys: [schoolKeys[s.slug]] },
      })),
      { id: SAML_SCHOOL.id, name: SAML_SCHOOL.name, roster: 'none', login: { kind: 'saml', metadataUrl: `${urls.school}/saml/metadata`, entityId: samlEntityId(urls) } },
    ],
    suppliers: PUBLISHERS.map((p) => ({ id: p.supplier, name: p.supplierName, keyVersion: 1 })),
    clients: [
      {
        clientId: 'rekenmeester', supplier: 'uitgeverij-rekenwijs', name: 'Rekenmeester',
        redirectUris: [`${urls.rekenmeester}/callback`], initiateLoginUri: `${urls.rekenmeester}/launch`,
        jwks: { keys: [keys.rekenmeester.publicJwk] },
        claims: ['school', 'role', 'grade', 'groups', 'group_names', 'given_name'],
      },
      {
        clientId: 'taalkanjer', supplier: 'taaluitgevers', name: 'Taalkanjer',
        redirectUris: [`${urls.taalkanjer}/callback`], clientSecret: keys.taalkanjerSecret,
        claims: ['school', 'role', 'grade', 'groups', 'given_name', 'family_name'],
      },
    ],
    licences: [
      // De Regenboog: Rekenmeester gets no names (but the role: a teacher is no pupil); Taalkanjer may show the pupil's first name.
      { school: '99DR', client: 'rekenmeester', claims: ['school', 'role', 'grade', 'groups'] },
      { school: '99DR', client: 'taalkanjer', claims: ['school', 'role', 'grade', 'given_name'] },
      // Het Kompas licenses Taalkanjer only: Rekenmeester ends on the no-licence page there.
      { school: '99HK', client: 'taalkanjer', claims: ['school', 'grade'] },
      // Het Vuurtoren College (SAML) licenses both.
      { school: SAML_SCHOOL.id, client: 'rekenmeester', claims: ['school', 'role'] },
      { school: SAML_SCHOOL.id, client: 'taalkanjer', claims: ['school', 'role', 'given_name'] },
    ],
  };
}
