// The client side of one SAML login (docs/saml.md), as a publisher, a browser
// and a SAML identity provider do it together: /authorize -> the IdP reads
// the AuthnRequest and signs a response (demo/saml-idp.ts, RSA-SHA256) ->
// POST /saml/acs -> code -> POST /token.
import { Pool } from 'undici';
import { readAuthnRequest } from '../demo/saml-idp.js';
import { authorizeAt, postAnswer, redeemCode, type BenchWorld, type LoginPick } from './gateway-client.js';

export function makeSamlLogin(world: BenchWorld & { saml: NonNullable<BenchWorld['saml']> }, pick: LoginPick) {
  const pool = new Pool(world.url, { connections: 64, pipelining: 1 });
  const acs = `${world.url}/saml/acs`;

  async function login(): Promise<{ idToken: string }> {
    const picked = pick();
    const { pupil, clientId } = typeof picked === 'string' ? { pupil: picked, clientId: world.clientId } : picked;
    const { schoolLogin, cookie, verifier } = await authorizeAt(pool, world, clientId, world.saml.schoolId);
    const request = readAuthnRequest(schoolLogin);
    const response = await world.saml.idp.response(
      { uid: pupil, givenName: 'Bench', sn: 'Pupil', affiliation: 'student', brin: world.saml.schoolId },
      { inResponseTo: request.id, acs, audience: `${world.url}/saml/metadata` },
    );
    const code = await postAnswer(pool, '/saml/acs', cookie, { SAMLResponse: response });
    return redeemCode(pool, world, clientId, code, verifier);
  }

  return { login, close: () => pool.close() };
}
