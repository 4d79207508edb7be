import { SaxesParser, type SaxesTagNS } from 'saxes';

// Every SAML document the gateway reads (a response, an identity provider's
// metadata) is first walked by a strict, non-validating parser (saxes: no
// DTD, never an entity beyond XML's five) before anything else touches it.
// Refused whatever its signature (docs/saml.md, "Validation"):
// - a DOCTYPE (entity expansion, external entities);
// - a comment or processing instruction: SAML has no use for them, and a
//   comment inside a signed text node is the classic way to make a reader
//   and the signature disagree about a value (CVE-2017-11428 and kin);
// - anything not well formed.

export const SAML_PROTOCOL = 'urn:oasis:names:tc:SAML:2.0:protocol';
export const SAML_ASSERTION = 'urn:oasis:names:tc:SAML:2.0:assertion';
export const SAML_METADATA = 'urn:oasis:names:tc:SAML:2.0:metadata';
export const XMLDSIG = 'http://www.w3.org/2000/09/xmldsig#';

export class StrictXmlError extends Error {
  constructor(readonly reason: 'doctype' | 'comment' | 'processing_instruction' | 'malformed') {
    super(`refused XML: ${reason}`);
    this.name = 'StrictXmlError';
  }
}

export interface XmlWalker {
  opentag?(tag: SaxesTagNS, depth: number): void;
  closetag?(tag: SaxesTagNS, depth: number): void;
  text?(text: string, depth: number): void;
}

/** Walk `xml` strictly, calling `walker` per element; throws StrictXmlError on anything refused. */
export function walkStrictXml(xml: string, walker: XmlWalker): void {
  const parser = new SaxesParser({ xmlns: true });
  let failure: StrictXmlError | undefined;
  let depth = 0;
  parser.on('doctype', () => (failure ??= new StrictXmlError('doctype')));
  parser.on('comment', () => (failure ??= new StrictXmlError('comment')));
  parser.on('processinginstruction', () => (failure ??= new StrictXmlError('processing_instruction')));
  parser.on('error', () => (failure ??= new StrictXmlError('malformed')));
  parser.on('opentag', (tag) => walker.opentag?.(tag, depth++));
  parser.on('closetag', (tag) => walker.closetag?.(tag, --depth));
  parser.on('text', (text) => walker.text?.(text, depth));
  try {
    parser.write(xml).close();
  } catch {
    failure ??= new StrictXmlError('malformed');
  }
  if (failure) throw failure;
}

/** The value of an attribute without a namespace (SAML's own attributes have none). */
export const plainAttribute = (tag: SaxesTagNS, name: string): string | undefined => {
  const attr = tag.attributes[name];
  return attr && attr.uri === '' ? attr.value : undefined;
};
