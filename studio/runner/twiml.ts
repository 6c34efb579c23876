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
  return new TwimlReader(xml).read();
}

type OpenElement = TwimlElement & { textParts: string[] };

/** One pass over a document: text and markup in turn, the elements not yet closed on a stack. */
class TwimlReader {
  private readonly stack: OpenElement[] = [];
  private root: TwimlElement | undefined;

  constructor(private readonly xml: string) {}

  read(): TwimlElement {
    const { xml, stack } = this;
    let index = 0;
    while (index < xml.length) {
      const lt = xml.indexOf('<', index);
      const textEnd = lt === -1 ? xml.length : lt;
      if (textEnd > index) this.text(xml.slice(index, textEnd));
      if (lt === -1) break;
      index = this.markup(lt);
      if (index <= lt) throw new TwimlParseError('unterminated markup');
    }
    if (stack.length > 0) throw new TwimlParseError(`<${stack[stack.length - 1]!.name}> is not closed`);
    if (!this.root) throw new TwimlParseError('no root element');
    return this.root;
  }

  private text(text: string): void {
    const top = this.stack[this.stack.length - 1];
    if (top) top.textParts.push(decodeEntities(text));
    else if (text.trim() !== '') throw new TwimlParseError('text outside the root element');
  }

  /** Reads the markup that starts at `lt`; returns where the text after it starts. */
  private markup(lt: number): number {
    const { xml } = this;
    if (xml.startsWith('<?', lt)) return xml.indexOf('?>', lt) + 2;
    if (xml.startsWith('<!--', lt)) return xml.indexOf('-->', lt) + 3;
    if (xml.startsWith('<![CDATA[', lt)) {
      const end = xml.indexOf(']]>', lt);
      if (end === -1) throw new TwimlParseError('unterminated CDATA');
      this.stack[this.stack.length - 1]?.textParts.push(xml.slice(lt + 9, end));
      return end + 3;
    }
    return xml.startsWith('</', lt) ? this.closingTag(lt) : this.openingTag(lt);
  }

  private closingTag(lt: number): number {
    const end = this.xml.indexOf('>', lt);
    const name = this.xml.slice(lt + 2, end).trim();
    const top = this.stack.pop();
    if (!top || top.name !== name) throw new TwimlParseError(`unexpected </${name}>`);
    close(top);
    return end + 1;
  }

  private openingTag(lt: number): number {
    const end = this.xml.indexOf('>', lt);
    if (end === -1) throw new TwimlParseError('unterminated tag');
    const body = this.xml.slice(lt + 1, end);
    const selfClosing = body.endsWith('/');
    const inner = selfClosing ? body.slice(0, -1) : body;
    const nameMatch = /^([A-Za-z_][\w:.-]*)/.exec(inner);
    if (!nameMatch) throw new TwimlParseError(`malformed tag <${body}>`);
    const element = this.open(nameMatch[1]!, parseAttributes(inner.slice(nameMatch[1]!.length)));
    if (selfClosing) close(element);
    else this.stack.push(element);
    return end + 1;
  }

  private open(name: string, attributes: Record<string, string>): OpenElement {
    const element: OpenElement = { name, attributes, children: [], text: '', textParts: [] };
    const parent = this.stack[this.stack.length - 1];
    if (parent) parent.children.push(element);
    else if (this.root) throw new TwimlParseError('more than one root element');
    else this.root = element;
    return element;
  }
}

/** An element is closed: its text parts become its text. */
function close(element: OpenElement): void {
  element.text = element.textParts.join('').trim();
  delete (element as Partial<OpenElement>).textParts;
}

/** A short rendering of a verb for the timeline: `Play`, `Redirect`, `Dial(Conference)`. */
export function describeVerb(verb: TwimlElement): string {
  return verb.children.length > 0 ? `${verb.name}(${verb.children.map((c) => c.name).join(',')})` : verb.name;
}
