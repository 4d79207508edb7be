import { testKey, type TestKey } from './keys.js';
import { TestSchool } from './test-school.js';

/** Two schools, two suppliers, three products and their licences: the world most tests log in to. */
export interface World {
  regenboog: TestSchool;
  klimop: TestSchool;
  rekenKey: TestKey;
  leesKey: TestKey;
  taalSecret: string;
  seed: {
    schools: object[];
    suppliers: object[];
    clients: object[];
    licences: object[];
  };
}

export const REKEN_CB = 'https://rekenapp.example/cb';
export const LEES_CB = 'https://leesapp.example/cb';
/** rekenapp's OIDC third-party-initiated login endpoint (school-started launch). */
export const REKEN_LAUNCH = 'https://rekenapp.example/launch?from=gateway';
export const TAAL_CB = 'https://taalapp.example/callback';

export async function makeWorld(): Promise<World> {
  const regenboog = await TestSchool.create('12AB');
  const klimop = await TestSchool.create('34CD01');
  const rekenKey = await testKey('ES256');
  const leesKey = await testKey('EdDSA');
  const taalSecret = 'taal-secret-0123456789-abcdefghijklmnop';
  return {
    regenboog,
    klimop,
    rekenKey,
    leesKey,
    taalSecret,
    seed: {
      schools: [regenboog.registration({ name: 'Basisschool De Regenboog', allowLaunch: true }), klimop.registration({ name: 'OBS De Klimop (Zwolle)', allowLaunch: true })],
      suppliers: [
        { id: 'uitgever-a', name: 'Uitgever A', keyVersion: 1 },
        { id: 'uitgever-b', name: 'Uitgever B', keyVersion: 1 },
      ],
      clients: [
        {
          clientId: 'rekenapp', supplier: 'uitgever-a', name: 'Rekenapp',
          redirectUris: [REKEN_CB, 'https://rekenapp.example/cb2'],
          initiateLoginUri: REKEN_LAUNCH,
          jwks: { keys: [rekenKey.publicJwk] },
          claims: ['school', 'role', 'grade', 'groups', 'group_names', 'given_name'],
        },
        {
          clientId: 'leesapp', supplier: 'uitgever-a', name: 'Leesapp',
          redirectUris: [LEES_CB],
          jwks: { keys: [leesKey.publicJwk] },
          claims: ['school', 'grade'],
        },
        {
          clientId: 'taalapp', supplier: 'uitgever-b', name: 'Taalapp',
          redirectUris: [TAAL_CB],
          clientSecret: taalSecret,
          claims: ['school', 'role', 'grade', 'groups', 'given_name', 'family_name'],
        },
      ],
      licences: [
        { school: '12AB', client: 'rekenapp', claims: ['school', 'grade', 'groups', 'group_names'], groups: ['8a'], grades: [7] },
        { school: '12AB', client: 'leesapp', claims: ['grade'] },
        { school: '12AB', client: 'taalapp', claims: ['school', 'role', 'given_name'], validFrom: '2020-01-01', validUntil: '2099-12-31' },
        { school: '34CD01', client: 'taalapp', claims: ['school'] },
      ],
    },
  };
}

export const PUPIL = {
  sub: 'leerling-4711',
  given_name: 'Sanne',
  family_name: 'Jansen',
  tussenvoegsel: 'van',
  birthdate: '2014-03-02',
  gender: 'F',
  groups: [{ key: '8a', name: 'Groep 8A', grade: 8 }],
};
