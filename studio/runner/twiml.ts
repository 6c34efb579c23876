/**
 * A small XML reader for TwiML documents: elements, attributes, text, entities, comments and
 * CDATA. TwiML is plain XML without namespaces or DTDs, so this is all Twilio Voice needs too.
 */

export interface TwimlElement {
  name: string;
  attributes: Record<string, string>;
  children: TwimlElement[];
  /** Text directly inside the element (entities decoded, trimmed). */
  text: string;
}

export class TwimlParseError extends Error {}

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-zA-Z]+);/g, (whole, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(parseInt(entity.slice(1), 10));
    return NAMED_ENTITIES[entity] ?? whole;
  });
}

const ATTRIBUTE = /([A-Za-z_:][\w:.-]*)\s*=\s*("([^"]*)"|'([^']*)')/g;

function parseAttributes(source: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const match of source.matchAll(ATTRIBUTE)) {
    attributes[match[1]!] = decodeEntities(match[3] ?? match[4] ?? '');
  }
  return attributes;
}

/** Parses a TwiML document and returns its root element (normally `<Response>`). */
export function parseTwiml(xml: string): TwimlElement {
  const stack: Array<TwimlElement & { textParts: string[] }> = [];
  let root: TwimlElement | undefined;
  let index = 0;
  const open = (name: string, attributes: Record<string, string>) => {
    const element = { name, attributes, children: [], text: '', textParts: [] as string[] };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(element);
    else if (root) throw new TwimlParseError('more than one root element');
    else root = element;
    return element;
  };
  const close = (element: TwimlElement & { textParts: string[] }) => {
    element.text = element.textParts.join('').trim();
    delete (element as Partial<typeof element>).textParts;
  };

  while (index < xml.length) {
    const lt = xml.indexOf('<', index);
    const textEnd = lt === -1 ? xml.length : lt;
    if (textEnd > index) {
      const text = xml.slice(index, textEnd);
      const top = stack[stack.length - 1];
      if (top) top.textParts.push(decodeEntities(text));
      else if (text.trim() !== '') throw new TwimlParseError('text outside the root element');
    }
    if (lt === -1) break;
    if (xml.startsWith('<?', lt)) {
      index = xml.indexOf('?>', lt) + 2;
    } else if (xml.startsWith('<!--', lt)) {
      index = xml.indexOf('-->', lt) + 3;
    } else if (xml.startsWith('<![CDATA[', lt)) {
      const end = xml.indexOf(']]>', lt);
      if (end === -1) throw new TwimlParseError('unterminated CDATA');
      stack[stack.length - 1]?.textParts.push(xml.slice(lt + 9, end));
      index = end + 3;
    } else if (xml.startsWith('</', lt)) {
      const end = xml.indexOf('>', lt);
      const name = xml.slice(lt + 2, end).trim();
      const top = stack.pop();
      if (!top || top.name !== name) throw new TwimlParseError(`unexpected </${name}>`);
      close(top);
      index = end + 1;
    } else {
      const end = xml.indexOf('>', lt);
      if (end === -1) throw new TwimlParseError('unterminated tag');
      const body = xml.slice(lt + 1, end);
      const selfClosing = body.endsWith('/');
      const inner = selfClosing ? body.slice(0, -1) : body;
      const nameMatch = /^([A-Za-z_][\w:.-]*)/.exec(inner);
      if (!nameMatch) throw new TwimlParseError(`malformed tag <${body}>`);
      const element = open(nameMatch[1]!, parseAttributes(inner.slice(nameMatch[1]!.length)));
      if (selfClosing) close(element);
      else stack.push(element);
      index = end + 1;
    }
    if (index <= lt) throw new TwimlParseError('unterminated markup');
  }
  if (stack.length > 0) throw new TwimlParseError(`<${stack[stack.length - 1]!.name}> is not closed`);
  if (!root) throw new TwimlParseError('no root element');
  return root;
}

/** A short rendering of a verb for the timeline: `Play`, `Redirect`, `Dial(Conference)`. */
export function describeVerb(verb: TwimlElement): string {
  return verb.children.length > 0 ? `${verb.name}(${verb.children.map((c) => c.name).join(',')})` : verb.name;
}
