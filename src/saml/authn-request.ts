import type { LoginMethod } from '../login/methods.js';
import type { IdpSource } from './idp-source.js';
import type { SpKeys } from './sp-keys.js';
import { requestIdOf, serviceProvider } from './sp.js';

// The login method "saml" (docs/saml.md): the browser goes to the identity
// provider's SingleSignOnService with an AuthnRequest in the HTTP-Redirect
// binding, signed with the gateway's current SP key. Its ID is the login id
// (behind an underscore), so the response's InResponseTo names the pending
// login it answers.

export interface SamlMethodDeps {
  readonly issuer: string;
  readonly idps: IdpSource;
  readonly spKeys: SpKeys;
}

export const samlMethod = (deps: SamlMethodDeps): LoginMethod => ({
  async begin(school, loginId) {
    if (school.login.kind !== 'saml') throw new TypeError('the saml method serves saml schools only');
    const [idp, keys] = await Promise.all([deps.idps.metadataOf(school.login), deps.spKeys.view()]);
    const sp = serviceProvider({ issuer: deps.issuer, idp, privateKey: keys.current.privateKey, requestId: requestIdOf(loginId) });
    return { location: await sp.getAuthorizeUrlAsync('', undefined, {}) };
  },
});
