import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildRegistry } from '../../src/store/registry.js';
import { parseSeed } from '../../src/store/seed-file.js';
import { schoolSchema } from '../../src/store/seed-schema.js';

// The registration of a SAML school (docs/saml.md, docs/registrations.md): one schema for the seed file and the admin API.

const saml = (login: object) => ({ id: '56EF', name: 'Het Lyceum', login: { kind: 'saml', entityId: 'https://hub.example/idp', ...login } });

describe('a SAML school registration', () => {
  it('takes exactly one of metadataUrl and metadataXml', () => {
    expect(schoolSchema.safeParse(saml({ metadataUrl: 'https://hub.example/metadata' })).success).toBe(true);
    expect(schoolSchema.safeParse(saml({ metadataXml: '<md:EntityDescriptor/>' })).success).toBe(true);
    for (const login of [{}, { metadataUrl: 'https://hub.example/metadata', metadataXml: '<x/>' }]) {
      const parsed = schoolSchema.safeParse(saml(login));
      expect(parsed.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['login.metadataUrl', 'give exactly one of metadataUrl or metadataXml']]);
    }
    expect(schoolSchema.safeParse(saml({ metadataUrl: 'http://hub.example/metadata' })).success).toBe(false);
    expect(schoolSchema.safeParse(saml({ metadataUrl: 'https://hub.example/metadata', attributes: { email: 'mail' } })).success).toBe(false);
  });

  it('fills in Entree\'s attribute names and a required roster unless registered otherwise', () => {
    const registry = buildRegistry(parseSeed({
      schools: [saml({ metadataUrl: 'https://hub.example/metadata' }), { ...saml({ metadataUrl: 'https://hub.example/metadata', identityAttribute: 'mail', attributes: { role: 'urn:oid:1.3.6.1.4.1.5923.1.1.1.1' } }), id: '78GH', roster: 'optional' }],
    }));
    expect(registry.schools.get('56EF')).toMatchObject({ roster: 'required', login: { kind: 'saml', identityAttribute: 'uid', brinAttribute: 'nlEduPersonHomeOrganizationId', attributes: { given_name: 'givenName', family_name: 'sn', role: 'eduPersonAffiliation' } } });
    expect(registry.schools.get('78GH')).toMatchObject({ roster: 'optional', login: { identityAttribute: 'mail', attributes: { given_name: 'givenName', role: 'urn:oid:1.3.6.1.4.1.5923.1.1.1.1' } } });
  });

  it('is in the admin API\'s schema (OpenAPI is generated from it)', () => {
    const json = JSON.stringify(z.toJSONSchema(schoolSchema, { io: 'input', unrepresentable: 'any' }));
    for (const field of ['"saml"', '"metadataUrl"', '"metadataXml"', '"entityId"', '"identityAttribute"', '"brinAttribute"']) expect(json).toContain(field);
  });
});
