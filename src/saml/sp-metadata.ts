import type { FastifyInstance } from 'fastify';
import { acsUrl, SP_METADATA_PATH, spEntityId } from './sp.js';
import type { SpKey, SpKeys } from './sp-keys.js';

// GET /saml/metadata: the gateway's SP metadata at a stable URL that is also
// its entity id (docs/saml.md). Every key of the key file is listed for
// signing and for encryption, the current one first: an identity provider
// that refreshes the metadata knows the next key before it is used.

export const SP_METADATA_MAX_AGE_S = 3600;

const escapeXml = (value: string): string =>
  value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const certBody = (key: SpKey): string => key.cert.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, '');

const keyDescriptor = (use: 'signing' | 'encryption', key: SpKey): string =>
  `<md:KeyDescriptor use="${use}"><ds:KeyInfo><ds:KeyName>${escapeXml(key.kid)}</ds:KeyName><ds:X509Data><ds:X509Certificate>${certBody(key)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`;

export function spMetadataXml(issuer: string, keys: readonly SpKey[]): string {
  const descriptors = keys.flatMap((key) => [keyDescriptor('signing', key), keyDescriptor('encryption', key)]).join('');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${escapeXml(spEntityId(issuer))}">`,
    '<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" AuthnRequestsSigned="true" WantAssertionsSigned="true">',
    descriptors,
    `<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${escapeXml(acsUrl(issuer))}" index="0" isDefault="true"/>`,
    '</md:SPSSODescriptor>',
    '</md:EntityDescriptor>',
  ].join('\n');
}

export function registerSpMetadata(app: FastifyInstance, deps: { issuer: string; spKeys: SpKeys }): void {
  app.get(SP_METADATA_PATH, async (_request, reply) => {
    const { all } = await deps.spKeys.view();
    return reply
      .type('application/samlmetadata+xml; charset=utf-8')
      .header('cache-control', `public, max-age=${SP_METADATA_MAX_AGE_S}`)
      .send(spMetadataXml(deps.issuer, all.map((k) => k.key)));
  });
}
