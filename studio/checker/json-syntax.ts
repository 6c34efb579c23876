/**
 * Where a JSON text first breaks, as "line L, column C". JSON.parse's own messages differ between
 * Node versions and some carry no position at all, so the checker finds the place itself.
 */

export interface JsonSyntaxError {
  line: number;
  column: number;
  /** What was found there: a quoted character, or "end of file". */
  found: string;
  expected: string;
}

class Scanner {
  position = 0;

  constructor(private readonly text: string) {}

  fail(expected: string): never {
    throw Object.assign(new Error('json'), { at: this.position, expected });
  }

  skipSpace(): void {
    while (/[ \t\n\r]/.test(this.text[this.position] ?? '')) this.position += 1;
  }

  peek(): string | undefined {
    return this.text[this.position];
  }

  expect(char: string, expected: string): void {
    this.skipSpace();
    if (this.peek() !== char) this.fail(expected);
    this.position += 1;
  }

  value(): void {
    this.skipSpace();
    const char = this.peek();
    if (char === '{') return this.object();
    if (char === '[') return this.array();
    if (char === '"') return this.string();
    const literal = /^(true|false|null|-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?)/.exec(this.text.slice(this.position));
    if (!literal) this.fail('a value');
    this.position += literal[0].length;
  }

  string(): void {
    this.position += 1; // opening quote
    for (;;) {
      const char = this.peek();
      if (char === undefined || char < ' ') this.fail('a closing quote');
      if (char === '"') {
        this.position += 1;
        return;
      }
      if (char === '\\') {
        const escape = /^\\(["\\/bfnrt]|u[0-9a-fA-F]{4})/.exec(this.text.slice(this.position));
        if (!escape) this.fail('a valid escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)');
        this.position += escape[0].length;
      } else {
        this.position += 1;
      }
    }
  }

  object(): void {
    this.items('}', () => {
      this.skipSpace();
      if (this.peek() !== '"') this.fail('a property name in double quotes');
      this.string();
      this.expect(':', '":" after the property name');
      this.value();
    });
  }

  array(): void {
    this.items(']', () => this.value());
  }

  /** The rest of an object or array: `item`s separated by commas, up to `close`. */
  private items(close: '}' | ']', item: () => void): void {
    this.position += 1;
    this.skipSpace();
    if (this.peek() === close) {
      this.position += 1;
      return;
    }
    for (;;) {
      item();
      this.skipSpace();
      if (this.peek() === ',') this.position += 1;
      else return this.expect(close, `"," or "${close}"`);
    }
  }
}

/** The first syntax error in `text`, or null when it is valid JSON. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | null {
  const scanner = new Scanner(text);
  try {
    scanner.value();
    scanner.skipSpace();
    if (scanner.peek() !== undefined) scanner.fail('the end of the file');
    return null;
  } catch (error) {
    const { at, expected } = error as { at: number; expected: string };
    const before = text.slice(0, at);
    const char = text[at];
    return {
      line: before.split('\n').length,
      column: at - before.lastIndexOf('\n'),
      found: char === undefined ? 'end of file' : JSON.stringify(char),
      expected,
    };
  }
}

export function describeJsonSyntaxError(error: JsonSyntaxError): string {
  return `expected ${error.expected} at line ${error.line}, column ${error.column}, found ${error.found}`;
}
