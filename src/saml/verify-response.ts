import type { Profile } from '@node-saml/node-saml';
import { PageError } from '../errors.js';
import type { IdpMetadata } from './idp-metadata.js';
import type { ScreenedResponse } from './screen-response.js';
import type { SpKeyView } from './sp-keys.js';
import { acsUrl, CLOCK_SKEW_MS, serviceProvider } from './sp.js';

// The SAML checks of a screened response (docs/saml.md, "Validation"), in
// order. node-saml: the assertion signed by a certificate of the identity
// provider's registered metadata (never a key carried in the message), one
// assertion, decryption with the gateway's SP key, Conditions
// NotBefore/NotOnOrAfter within 60 s of skew, the audience (the SP entity
// id), and for an answer to a request, the response's and the
// SubjectConfirmation's InResponseTo naming that request. Then here, on the
// signed assertion only: its issuer, a bearer SubjectConfirmation for our
// ACS (Recipient) within its NotOnOrAfter, the response's Destination.

export interface VerifiedSaml {
  readonly assertionId: string;
  readonly nameId: string | undefined;
  /** Every attribute's values, by the attribute's Name. */
  readonly attributes: ReadonlyMap<string, readonly string[]>;
  /** Milliseconds: the latest moment the assertion is still usable (for its replay claim). */
  readonly usableUntil: number;
  /** Seconds: AuthnInstant, or now. */
  readonly authTime: number;
}

export interface VerifyDeps {
  readonly issuer: string;
  readonly idp: IdpMetadata;
  readonly keys: SpKeyView;
  readonly now: number;
  /** The request this answers (SP-initiated): its ID and when it was made. */
  readonly request?: { readonly id: string; readonly createdAt: number };
}

const invalid = (reason: string) => new PageError('upstream_invalid', 400, 'The school login answered with an invalid response', reason);

type Xml2Js = { $?: Record<string, string>; _?: string } & { [child: string]: Xml2Js[] | Record<string, string> | string | undefined };

export async function verifyResponse(screened: ScreenedResponse, deps: VerifyDeps): Promise<VerifiedSaml> {
  // The response's Destination is our ACS (SAML bindings section 3.5.5.2): a response meant for another service is refused.
  if (screened.destination !== acsUrl(deps.issuer)) throw invalid('saml_destination');
  const profile = await validateWithKeys(screened, deps);
  if (profile.issuer !== deps.idp.entityId) throw invalid('saml_issuer');
  const assertion = (profile.getAssertion?.() as { Assertion?: Xml2Js } | undefined)?.Assertion;
  if (!assertion) throw invalid('saml_no_assertion');
  const subjectUntil = checkSubjectConfirmation(assertion, deps);
  const id = assertion.$?.ID;
  if (!id) throw invalid('saml_assertion_id');
  return {
    assertionId: id,
    nameId: profile.nameID || undefined,
    attributes: attributesOf(assertion),
    usableUntil: Math.max(subjectUntil, conditionsUntil(assertion)) + CLOCK_SKEW_MS,
    authTime: authTimeOf(assertion, deps.now),
  };
}

/**
 * An encrypted assertion is decrypted with the current SP key first, then with
 * each other published key (an identity provider may still hold older
 * metadata, or already the next key). The first key's refusal is the answer
 * when none succeeds. A plain assertion needs one pass.
 */
async function validateWithKeys(screened: ScreenedResponse, deps: VerifyDeps): Promise<Profile> {
  const keys = screened.encrypted ? deps.keys.all : deps.keys.all.slice(0, 1);
  let firstError: unknown;
  for (const { key } of keys) {
    const sp = serviceProvider({
      issuer: deps.issuer, idp: deps.idp, privateKey: key.privateKey,
      ...(deps.request ? { requestId: deps.request.id, requestCreatedAt: deps.request.createdAt } : {}),
    });
    try {
      const { profile } = await sp.validatePostResponseAsync({ SAMLResponse: screened.base64 });
      if (profile) return profile;
      firstError ??= new Error('no assertion');
    } catch (err) {
      firstError ??= err;
    }
  }
  throw invalid(reasonOf(firstError));
}

/** A short, stable reason for the log: never the library's message, which may quote the response. */
function reasonOf(err: unknown): string {
  const message = err instanceof Error ? err.message : '';
  if (/status/i.test(err instanceof Error ? err.name : '')) return 'saml_status';
  if (/signature/i.test(message)) return 'saml_signature';
  if (/audience/i.test(message)) return 'saml_audience';
  // node-saml looks for a SubjectConfirmation within its times: none found is a time refusal.
  if (/expired|NotBefore|NotOnOrAfter|not yet valid|no valid subject confirmation/i.test(message)) return 'saml_time';
  if (/InResponseTo/i.test(message)) return 'saml_in_response_to';
  if (/decrypt|EncryptedAssertion/i.test(message)) return 'saml_decryption';
  return 'saml_invalid';
}

const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';

/** SAML profiles section 4.1.4.2: a bearer SubjectConfirmation whose data names our ACS as Recipient and is within NotOnOrAfter. */
function checkSubjectConfirmation(assertion: Xml2Js, deps: VerifyDeps): number {
  const subject = (assertion.Subject as Xml2Js[] | undefined)?.[0];
  const confirmations = (subject?.SubjectConfirmation as Xml2Js[] | undefined) ?? [];
  const acs = acsUrl(deps.issuer);
  let recipientSeen = false;
  for (const confirmation of confirmations) {
    if (confirmation.$?.Method !== BEARER) continue;
    const data = (confirmation.SubjectConfirmationData as Xml2Js[] | undefined)?.[0]?.$;
    if (data?.Recipient !== acs) continue;
    recipientSeen = true;
    const until = Date.parse(data.NotOnOrAfter ?? '');
    if (!Number.isFinite(until) || deps.now - CLOCK_SKEW_MS >= until) continue;
    const notBefore = data.NotBefore === undefined ? -Infinity : Date.parse(data.NotBefore);
    if (!(deps.now + CLOCK_SKEW_MS >= notBefore)) continue;
    // An unsolicited answer must not carry some other request's ID.
    if ((data.InResponseTo ?? undefined) !== deps.request?.id) continue;
    return until;
  }
  throw invalid(recipientSeen ? 'saml_subject_confirmation' : 'saml_recipient');
}

function conditionsUntil(assertion: Xml2Js): number {
  const conditions = (assertion.Conditions as Xml2Js[] | undefined)?.[0]?.$;
  const until = Date.parse(conditions?.NotOnOrAfter ?? '');
  return Number.isFinite(until) ? until : 0;
}

function authTimeOf(assertion: Xml2Js, now: number): number {
  const instant = Date.parse((assertion.AuthnStatement as Xml2Js[] | undefined)?.[0]?.$?.AuthnInstant ?? '');
  return Math.floor((Number.isFinite(instant) ? Math.min(instant, now) : now) / 1000);
}

function attributesOf(assertion: Xml2Js): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const statement of (assertion.AttributeStatement as Xml2Js[] | undefined) ?? []) {
    for (const attribute of (statement.Attribute as Xml2Js[] | undefined) ?? []) {
      const name = attribute.$?.Name;
      if (!name) continue;
      const values = ((attribute.AttributeValue as (Xml2Js | string)[] | undefined) ?? [])
        .map((v) => (typeof v === 'string' ? v : typeof v._ === 'string' ? v._ : undefined))
        .filter((v): v is string => v !== undefined);
      out.set(name, [...(out.get(name) ?? []), ...values]);
    }
  }
  return out;
}
