import { PageError } from '../errors.js';
import type { UpstreamIdentity } from '../login/upstream-person.js';
import type { Pupil } from '../release/pupil.js';
import type { Registry, SamlLogin, SamlSchool } from '../store/registry.js';
import type { VerifiedSaml } from './verify-response.js';

// From a verified assertion to the school and the upstream identity
// (docs/saml.md, "Attribute mapping"): the BRIN attribute picks the school
// among those registered with this identity provider, the identity attribute
// (uid, Entree's NameID) is the identifier, eduPersonAffiliation the role.
// personAtSchool (src/login/upstream-person.ts) then joins it with the roster.

const invalid = (reason: string) => new PageError('upstream_invalid', 400, 'The school login answered with an invalid response', reason);

/** Names an attribute may travel under: as registered, or as the urn:mace:dir:attribute-def: form of a short name. */
const namesOf = (name: string): string[] => (name.includes(':') ? [name] : [name, `urn:mace:dir:attribute-def:${name}`]);

export function attributeValues(verified: VerifiedSaml, name: string): readonly string[] {
  for (const candidate of namesOf(name)) {
    const values = verified.attributes.get(candidate);
    if (values) return values;
  }
  return [];
}

/** At most one distinct value: an attribute that identifies must not be ambiguous. */
function singleValue(verified: VerifiedSaml, name: string, reason: string): string | undefined {
  const values = [...new Set(attributeValues(verified, name))];
  if (values.length > 1) throw invalid(reason);
  return values[0];
}

/**
 * The school the assertion speaks for: the one of this identity provider whose
 * id is the asserted BRIN (a hub serves many), or, without a BRIN, the
 * identity provider's only school. Anything else is `wrong_tenant`.
 */
export function pickSchool(registry: Pick<Registry, 'schoolsBySamlIdp'>, asked: SamlSchool, verified: VerifiedSaml): SamlSchool {
  const schools = registry.schoolsBySamlIdp.get(asked.login.entityId) ?? [];
  const brin = singleValue(verified, asked.login.brinAttribute, 'saml_brin_ambiguous');
  const school = brin === undefined ? (schools.length === 1 ? schools[0] : undefined) : schools.find((s) => s.id === brin.trim().toUpperCase());
  if (!school) throw new PageError('wrong_tenant', 403, 'The school login vouched for a school it may not speak for', 'saml_brin_not_allowed');
  return school;
}

const TEACHER_AFFILIATIONS = new Set(['employee', 'staff', 'faculty']);

/** eduPersonAffiliation: student when it says student, a teacher for employee, staff or faculty, else a student. */
function roleOf(affiliations: readonly string[]): Pupil['role'] {
  const values = affiliations.map((a) => a.trim().toLowerCase());
  if (values.includes('student')) return 'student';
  return values.some((v) => TEACHER_AFFILIATIONS.has(v)) ? 'teacher' : 'student';
}

/** The identifier (which must equal the NameID when both are sent), the role and the names the assertion carries. */
export function upstreamIdentity(login: SamlLogin, verified: VerifiedSaml): UpstreamIdentity {
  const uid = singleValue(verified, 'uid', 'saml_uid_ambiguous');
  // docs/saml.md: the NameID and the uid attribute carry the same value (Entree's NameID is the uid).
  if (uid !== undefined && verified.nameId !== undefined && uid !== verified.nameId) throw invalid('saml_nameid_uid_mismatch');
  const identifier = login.identityAttribute === 'uid' ? (uid ?? verified.nameId) : singleValue(verified, login.identityAttribute, 'saml_identity_ambiguous');
  if (identifier === undefined) throw invalid('saml_no_identity');
  const given = attributeValues(verified, login.attributes.given_name)[0];
  const family = attributeValues(verified, login.attributes.family_name)[0];
  return {
    identifier,
    kind: login.identityAttribute === 'mail' ? 'email' : 'sub',
    role: roleOf(attributeValues(verified, login.attributes.role)),
    attributes: { ...(given === undefined ? {} : { given_name: given }), ...(family === undefined ? {} : { family_name: family }) },
  };
}
