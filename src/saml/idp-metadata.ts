import type { SaxesTagNS } from 'saxes';
import { plainAttribute, SAML_METADATA, walkStrictXml, XMLDSIG } from './strict-xml.js';

// What the gateway takes from an identity provider's SAML metadata (docs/saml.md):
// for the EntityDescriptor of the registered entity id (a federation's
// aggregate may hold many), its IDPSSODescriptor's signing certificates
// (KeyDescriptor use="signing" or without use) and its SingleSignOnService
// for the HTTP-Redirect binding. Nothing else in the document is trusted.

export const HTTP_REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';

export interface IdpMetadata {
  readonly entityId: string;
  readonly ssoUrl: string;
  /** Base64 DER certificates whose keys may sign responses and assertions. */
  readonly signingCerts: readonly string[];
}

export class IdpMetadataError extends Error {
  constructor(message: string) {
    super(`identity provider metadata: ${message}`);
    this.name = 'IdpMetadataError';
  }
}

export function readIdpMetadata(xml: string, entityId: string): IdpMetadata {
  let inEntity = false;
  let inIdp = false;
  let keyUse: string | undefined;
  let inCert = false;
  let cert = '';
  let ssoUrl: string | undefined;
  const signingCerts: string[] = [];
  const is = (tag: SaxesTagNS, uri: string, local: string) => tag.uri === uri && tag.local === local;
  walkStrictXml(xml, {
    opentag(tag) {
      if (is(tag, SAML_METADATA, 'EntityDescriptor')) inEntity = plainAttribute(tag, 'entityID') === entityId;
      if (!inEntity) return;
      if (is(tag, SAML_METADATA, 'IDPSSODescriptor')) inIdp = true;
      if (!inIdp) return;
      if (is(tag, SAML_METADATA, 'KeyDescriptor')) keyUse = plainAttribute(tag, 'use') ?? 'signing';
      if (is(tag, XMLDSIG, 'X509Certificate') && keyUse === 'signing') {
        inCert = true;
        cert = '';
      }
      if (is(tag, SAML_METADATA, 'SingleSignOnService') && plainAttribute(tag, 'Binding') === HTTP_REDIRECT) ssoUrl ??= plainAttribute(tag, 'Location');
    },
    text(text) {
      if (inCert) cert += text;
    },
    closetag(tag) {
      if (is(tag, XMLDSIG, 'X509Certificate') && inCert) {
        inCert = false;
        signingCerts.push(cert.replace(/\s+/g, ''));
      }
      if (is(tag, SAML_METADATA, 'KeyDescriptor')) keyUse = undefined;
      if (is(tag, SAML_METADATA, 'IDPSSODescriptor')) inIdp = false;
      if (is(tag, SAML_METADATA, 'EntityDescriptor')) inEntity = false;
    },
  });
  if (ssoUrl === undefined || URL.parse(ssoUrl)?.protocol.match(/^https?:$/) == null) throw new IdpMetadataError(`no HTTP-Redirect SingleSignOnService for ${entityId}`);
  if (signingCerts.length === 0) throw new IdpMetadataError(`no signing certificate for ${entityId}`);
  return { entityId, ssoUrl, signingCerts };
}
