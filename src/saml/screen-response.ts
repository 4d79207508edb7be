import { PageError } from '../errors.js';
import { plainAttribute, SAML_ASSERTION, SAML_PROTOCOL, StrictXmlError, walkStrictXml } from './strict-xml.js';

// The first look at a posted SAMLResponse, before any signature is checked
// (docs/saml.md, "Validation"): size, base64, strict XML (no DOCTYPE, comment
// or processing instruction), a samlp:Response at the root with at most one
// assertion (plain or encrypted) directly inside, and what the route needs
// to find the pending login: the response's InResponseTo and Destination.
// Nothing read here is trusted beyond choosing what to verify against.

/** The decoded response; Entree's signed responses are a few KiB, a response with an encrypted assertion some more. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

export interface ScreenedResponse {
  readonly xml: string;
  readonly base64: string;
  readonly inResponseTo?: string;
  readonly destination?: string;
  readonly issuer?: string;
  /** The assertion is an EncryptedAssertion (the SP keys are tried in turn to decrypt it). */
  readonly encrypted: boolean;
}

const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';

const invalid = (reason: string) => new PageError('upstream_invalid', 400, 'The school login answered with an invalid response', reason);

export function screenResponse(base64: string | undefined): ScreenedResponse {
  if (base64 === undefined) throw invalid('saml_response_missing');
  if (base64.length > Math.ceil(MAX_RESPONSE_BYTES / 3) * 4 + 1024) throw invalid('saml_response_too_large');
  const compact = base64.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) throw invalid('saml_response_not_base64');
  const xml = Buffer.from(compact, 'base64').toString('utf8');
  if (Buffer.byteLength(xml) > MAX_RESPONSE_BYTES) throw invalid('saml_response_too_large');
  let root: { uri: string; local: string; inResponseTo?: string; destination?: string } | undefined;
  let assertions = 0;
  let encrypted = false;
  let status: string | undefined;
  let inIssuer = false;
  let issuer = '';
  try {
    walkStrictXml(xml, {
      opentag(tag, depth) {
        if (depth === 0) {
          root = { uri: tag.uri, local: tag.local };
          const inResponseTo = plainAttribute(tag, 'InResponseTo');
          const destination = plainAttribute(tag, 'Destination');
          if (inResponseTo !== undefined) root.inResponseTo = inResponseTo;
          if (destination !== undefined) root.destination = destination;
        }
        if (depth === 1 && tag.uri === SAML_ASSERTION && (tag.local === 'Assertion' || tag.local === 'EncryptedAssertion')) {
          assertions++;
          encrypted = tag.local === 'EncryptedAssertion';
        }
        if (depth === 1 && tag.uri === SAML_ASSERTION && tag.local === 'Issuer') inIssuer = true;
        if (depth === 2 && tag.uri === SAML_PROTOCOL && tag.local === 'StatusCode') status ??= plainAttribute(tag, 'Value');
      },
      text(text) {
        if (inIssuer) issuer += text;
      },
      closetag(tag, depth) {
        if (depth === 1 && tag.local === 'Issuer') inIssuer = false;
      },
    });
  } catch (err) {
    if (err instanceof StrictXmlError) throw invalid(`saml_xml_${err.reason}`);
    throw err;
  }
  if (root?.uri !== SAML_PROTOCOL || root.local !== 'Response') throw invalid('saml_not_a_response');
  // The identity provider said no (the person cancelled, or may not use the service): named, never trusted further.
  if (assertions === 0 && status !== undefined && status !== SUCCESS) {
    // The status is unsigned input: only a status code's name reaches the log line.
    const name = status.split(':').at(-1)!;
    throw new PageError('upstream_denied', 403, 'The school login refused the login', `saml_status_${/^[A-Za-z]{1,40}$/.test(name) ? name : 'other'}`);
  }
  // One assertion only: a second one (signature wrapping) is refused before any signature is read.
  if (assertions !== 1) throw invalid('saml_assertion_count');
  return {
    xml,
    base64: compact,
    encrypted,
    ...(root.inResponseTo === undefined ? {} : { inResponseTo: root.inResponseTo }),
    ...(root.destination === undefined ? {} : { destination: root.destination }),
    ...(issuer ? { issuer: issuer.trim() } : {}),
  };
}
