import { randomBytes } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { SignedXml } from 'xml-crypto';
import xmlenc from 'xml-encryption';
import { newSpKey, type SpKey } from '../src/saml/sp-keys.js';

// A small SAML 2.0 identity provider (the demo's SAML school, and the tests'
// identity provider): it publishes metadata, reads the gateway's
// HTTP-Redirect AuthnRequest and answers with a Response whose assertion it
// REALLY signs (xml-crypto, RSA-SHA256, exclusive c14n) and, when asked,
// encrypts to the gateway's SP certificate (xml-encryption). Entree-style
// attributes. Every knob below exists so tests can build the bad responses a
// gateway must refuse.

const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

export interface SamlPerson {
  readonly uid: string;
  readonly givenName?: string;
  readonly sn?: string;
  readonly affiliation?: string;
  /** The BRIN (nlEduPersonHomeOrganizationId). */
  readonly brin?: string | undefined;
  readonly homeOrganization?: string;
  readonly employeeNumber?: string;
  readonly eckId?: string;
}

export interface ResponseOptions {
  /** The request answered (its ID), or undefined for an unsolicited response. */
  inResponseTo?: string | undefined;
  /** In the SubjectConfirmationData; defaults to inResponseTo. */
  subjectInResponseTo?: string | undefined;
  acs: string;
  audience: string;
  recipient?: string;
  destination?: string;
  nameId?: string;
  assertionId?: string;
  /** Seconds added to now for NotBefore and NotOnOrAfter. */
  notBeforeS?: number;
  notOnOrAfterS?: number;
  signAssertion?: boolean;
  signResponse?: boolean;
  /** Sign with this key instead of the identity provider's own. */
  signWith?: SpKey;
  /** Put this certificate in the signature's KeyInfo. */
  keyInfoCert?: string;
  /** Encrypt the (signed) assertion to this certificate (PEM). */
  encryptTo?: string;
  /** Extra attributes, or replacements, by name. */
  attributes?: Record<string, string[]>;
}

const escapeXml = (value: string): string => value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const instant = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
export const samlId = (): string => `_${randomBytes(20).toString('hex')}`;

/** The AuthnRequest of a redirect URL: its ID and ACS. */
export function readAuthnRequest(location: string | URL): { id: string; acs: string; issuer: string } {
  const url = new URL(location);
  const xml = inflateRawSync(Buffer.from(url.searchParams.get('SAMLRequest')!, 'base64')).toString('utf8');
  return {
    id: /\sID="([^"]+)"/.exec(xml)![1]!,
    acs: /AssertionConsumerServiceURL="([^"]+)"/.exec(xml)![1]!,
    issuer: /<saml:Issuer[^>]*>([^<]+)<\/saml:Issuer>/.exec(xml)![1]!,
  };
}

export function entreeAttributes(person: SamlPerson): Record<string, string[]> {
  const attributes: Record<string, string[] | undefined> = {
    uid: [person.uid],
    givenName: person.givenName === undefined ? undefined : [person.givenName],
    sn: person.sn === undefined ? undefined : [person.sn],
    eduPersonAffiliation: [person.affiliation ?? 'student'],
    nlEduPersonHomeOrganizationId: person.brin === undefined ? undefined : [person.brin],
    nlEduPersonHomeOrganization: person.homeOrganization === undefined ? undefined : [person.homeOrganization],
    employeeNumber: person.employeeNumber === undefined ? undefined : [person.employeeNumber],
    eckId: person.eckId === undefined ? undefined : [person.eckId],
  };
  return Object.fromEntries(Object.entries(attributes).filter((e): e is [string, string[]] => e[1] !== undefined));
}

export class SamlIdp {
  readonly key: SpKey;

  constructor(readonly entityId: string, readonly ssoUrl: string, key?: SpKey) {
    this.key = key ?? newSpKey();
  }

  metadataXml(): string {
    const cert = this.key.cert.replace(/-----(BEGIN|END) CERTIFICATE-----|\s+/g, '');
    return `<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${escapeXml(this.entityId)}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" WantAuthnRequestsSigned="false">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${escapeXml(this.ssoUrl)}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`;
  }

  /** A Response for `person`, as XML (before base64). */
  async responseXml(person: SamlPerson, options: ResponseOptions): Promise<string> {
    const now = Date.now();
    const subjectInResponseTo = 'subjectInResponseTo' in options ? options.subjectInResponseTo : options.inResponseTo;
    const irt = (id: string | undefined) => (id === undefined ? '' : ` InResponseTo="${escapeXml(id)}"`);
    const notBefore = instant(now + (options.notBeforeS ?? -5) * 1000);
    const notOnOrAfter = instant(now + (options.notOnOrAfterS ?? 300) * 1000);
    const attributes = { ...entreeAttributes(person), ...options.attributes };
    const attributeXml = Object.entries(attributes)
      .map(([name, values]) => `<saml:Attribute Name="${escapeXml(name)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:uri">${values.map((v) => `<saml:AttributeValue>${escapeXml(v)}</saml:AttributeValue>`).join('')}</saml:Attribute>`)
      .join('');
    let assertion = `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${options.assertionId ?? samlId()}" Version="2.0" IssueInstant="${instant(now)}">`
      + `<saml:Issuer>${escapeXml(this.entityId)}</saml:Issuer>`
      + `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">${escapeXml(options.nameId ?? person.uid)}</saml:NameID>`
      + `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="${notOnOrAfter}" Recipient="${escapeXml(options.recipient ?? options.acs)}"${irt(subjectInResponseTo)}/></saml:SubjectConfirmation></saml:Subject>`
      + `<saml:Conditions NotBefore="${notBefore}" NotOnOrAfter="${notOnOrAfter}"><saml:AudienceRestriction><saml:Audience>${escapeXml(options.audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>`
      + `<saml:AuthnStatement AuthnInstant="${instant(now)}" SessionIndex="${samlId()}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>`
      + `<saml:AttributeStatement>${attributeXml}</saml:AttributeStatement>`
      + '</saml:Assertion>';
    if (options.signAssertion ?? true) assertion = this.sign(assertion, 'Assertion', options);
    if (options.encryptTo !== undefined) assertion = `<saml:EncryptedAssertion>${await encrypt(assertion, options.encryptTo)}</saml:EncryptedAssertion>`;
    let response = `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${samlId()}" Version="2.0" IssueInstant="${instant(now)}" Destination="${escapeXml(options.destination ?? options.acs)}"${irt(options.inResponseTo)}>`
      + `<saml:Issuer>${escapeXml(this.entityId)}</saml:Issuer>`
      + '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>'
      + assertion
      + '</samlp:Response>';
    if (options.signResponse) response = this.sign(response, 'Response', options);
    return response;
  }

  async response(person: SamlPerson, options: ResponseOptions): Promise<string> {
    return Buffer.from(await this.responseXml(person, options)).toString('base64');
  }

  private sign(xml: string, element: 'Assertion' | 'Response', options: ResponseOptions): string {
    const key = options.signWith ?? this.key;
    const signer = new SignedXml({
      privateKey: key.privateKey,
      ...(options.keyInfoCert === undefined ? {} : { publicCert: options.keyInfoCert }),
      signatureAlgorithm: RSA_SHA256,
      canonicalizationAlgorithm: EXC_C14N,
    });
    const self = `/*[local-name(.)='${element}']`;
    signer.addReference({ xpath: self, digestAlgorithm: SHA256, transforms: [ENVELOPED, EXC_C14N] });
    // SAML core section 5: the Signature follows the Issuer.
    signer.computeSignature(xml, { prefix: 'ds', location: { reference: `${self}/*[local-name(.)='Issuer']`, action: 'after' } });
    return signer.getSignedXml();
  }
}

function encrypt(xml: string, certPem: string): Promise<string> {
  return new Promise((resolve, reject) => {
    xmlenc.encrypt(xml, {
      rsa_pub: certPem,
      pem: certPem,
      encryptionAlgorithm: 'http://www.w3.org/2009/xmlenc11#aes256-gcm',
      keyEncryptionAlgorithm: 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
    }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}
