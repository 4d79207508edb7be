import { SaxesParser, type SaxesTagNS } from 'saxes';
import { fileProblem, yieldToLoop } from './problems.js';

// Reads an EDEXML 2.1 file (NTA 2032; docs/roster.md, "EDEXML") into plain
// records, streaming, with the line each record starts on. The XML parser
// (saxes) is strict and never expands entities beyond XML's five; a file with
// a DOCTYPE is refused outright (no DTD, no entity declarations). Elements of
// other namespaces (extensions, xsi) are skipped with their content.

/** The bare EDEXML root has no namespace; UWLR's leerlinggegevens carries this one. */
const NAMESPACES = new Set(['', 'http://www.edustandaard.nl/leerresultaten/2/leerlinggegevens']);
const ROOTS = new Set(['EDEX', 'leerlinggegevens']);
const CHUNK_CHARS = 256 * 1024;
const FILE = 'body';

export interface EdexGroup {
  kind: 'groep' | 'samengestelde_groep';
  key: string | undefined;
  line: number;
  fields: Record<string, string>;
}

export interface EdexPerson {
  kind: 'leerling' | 'leerkracht';
  key: string | undefined;
  line: number;
  fields: Record<string, string>;
  /** Referenced groups, in document order. */
  groupRefs: { kind: 'groep' | 'samengestelde_groep'; key: string | undefined }[];
}

export interface EdexFile {
  school: Record<string, string>;
  groups: EdexGroup[];
  people: EdexPerson[];
}

/** Element paths below the root whose text is kept, and what keeps it. */
const LEAVES: Record<string, 'school' | 'group' | 'person'> = {};
for (const f of ['brincode', 'dependancecode']) LEAVES[`school/${f}`] = 'school';
for (const f of ['naam', 'jaargroep']) LEAVES[`groepen/groep/${f}`] = 'group';
LEAVES['groepen/samengestelde_groep/naam'] = 'group';
for (const f of ['achternaam', 'voorvoegsel', 'roepnaam', 'geboortedatum', 'geslacht', 'jaargroep', 'gebruikersnaam', 'emailadres']) LEAVES[`leerlingen/leerling/${f}`] = 'person';
for (const f of ['achternaam', 'voorvoegsel', 'roepnaam', 'gebruikersnaam', 'emailadres']) LEAVES[`leerkrachten/leerkracht/${f}`] = 'person';

const GROUP_REFS: Record<string, 'groep' | 'samengestelde_groep'> = {
  'leerlingen/leerling/groep': 'groep',
  'leerlingen/leerling/samengestelde_groepen/samengestelde_groep': 'samengestelde_groep',
  'leerkrachten/leerkracht/groepen/groep': 'groep',
  'leerkrachten/leerkracht/groepen/samengestelde_groep': 'samengestelde_groep',
};

const keyOf = (tag: SaxesTagNS): string | undefined => {
  const attr = tag.attributes.key;
  return attr && attr.uri === '' ? attr.value : undefined;
};

export async function readEdexml(xml: Buffer): Promise<EdexFile> {
  const out: EdexFile = { school: {}, groups: [], people: [] };
  const parser = new SaxesParser({ xmlns: true, position: true });
  const path: string[] = [];
  let skipping = 0;
  let text = '';
  let failure: Error | undefined;
  let group: EdexGroup | undefined;
  let person: EdexPerson | undefined;

  parser.on('doctype', () => {
    failure ??= fileProblem(FILE, '(document)', 'a DOCTYPE is not accepted (no DTD or entity declarations)');
  });
  parser.on('error', (err) => {
    failure ??= fileProblem(FILE, '(document)', `not well-formed XML at line ${parser.line}: ${err.message.replace(/^[^:]*:\d+:\d+: /, '')}`);
  });
  parser.on('xmldecl', (decl) => {
    if (decl.encoding && !/^utf-?8$/i.test(decl.encoding)) failure ??= fileProblem(FILE, '(document)', 'the file must be UTF-8');
  });
  parser.on('opentag', (tag) => {
    if (skipping || !NAMESPACES.has(tag.uri)) return void skipping++;
    if (path.length === 0 && !ROOTS.has(tag.local)) failure ??= fileProblem(FILE, '(document)', 'the root element must be EDEX');
    path.push(tag.local);
    text = '';
    const at = path.slice(1).join('/');
    if (at === 'groepen/groep' || at === 'groepen/samengestelde_groep') out.groups.push((group = { kind: tag.local as EdexGroup['kind'], key: keyOf(tag), line: parser.line, fields: {} }));
    else if (at === 'leerlingen/leerling' || at === 'leerkrachten/leerkracht') out.people.push((person = { kind: tag.local as EdexPerson['kind'], key: keyOf(tag), line: parser.line, fields: {}, groupRefs: [] }));
    else if (GROUP_REFS[at] && person) person.groupRefs.push({ kind: GROUP_REFS[at], key: keyOf(tag) });
  });
  parser.on('text', (t) => {
    if (!skipping) text += t;
  });
  parser.on('closetag', () => {
    if (skipping) return void skipping--;
    const at = path.slice(1).join('/');
    const value = text.trim();
    const leaf = LEAVES[at];
    const field = path[path.length - 1]!;
    if (leaf && value) {
      if (leaf === 'school') out.school[field] = value;
      else if (leaf === 'group' && group) group.fields[field] = value;
      else if (leaf === 'person' && person) person.fields[field] = value;
    }
    path.pop();
    text = '';
  });

  let source: string;
  try {
    source = new TextDecoder('utf-8', { fatal: true }).decode(xml);
  } catch {
    throw fileProblem(FILE, '(document)', 'the file must be UTF-8');
  }
  for (let i = 0; i < source.length && !failure; i += CHUNK_CHARS) {
    parser.write(source.slice(i, i + CHUNK_CHARS));
    await yieldToLoop();
  }
  if (!failure) parser.close();
  if (failure) throw failure;
  return out;
}
