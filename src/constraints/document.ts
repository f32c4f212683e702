// The document reader behind profiles and requests: YAML or JSON text parsed once, which can say
// on which line any field path sits; validation against a zod schema whose errors name the file,
// line, field path and offending value; every value's source for the model's objects.

import { LineCounter, parseDocument, type Document } from 'yaml';
import { z } from 'zod';
import { InputError, showValue } from '../errors.js';
import { LIMITS, readInputText } from '../util/input-file.js';
import { didYouMean } from '../util/suggest.js';

export type PathKey = string | number;

/** A parsed YAML/JSON document that can say on which line any field path sits. */
export class SourceDocument {
  private readonly lines = new LineCounter();
  /** The parsed text; none for a request made only of flags or API fields (nothing to parse or point at). */
  readonly doc: Document | undefined;
  /** False for a request made only of flags or API fields: there are no lines to point at. */
  readonly hasText: boolean;

  private readonly text: string;

  constructor(
    text: string,
    readonly origin: string,
  ) {
    this.hasText = text.trim() !== '';
    this.text = text;
    if (!this.hasText) {
      this.doc = undefined;
      return;
    }
    // logLevel 'error': problems are errors here, never warnings printed on the user's stderr.
    this.doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: true, prettyErrors: false, logLevel: 'error' });
    const first = this.doc.errors[0];
    if (first) {
      const { line } = this.lines.linePos(first.pos[0]);
      throw new InputError(`${origin}:${line}: not valid YAML or JSON: ${first.message.split('\n')[0]}`, undefined, undefined, `${origin}:${line}`);
    }
  }

  data(): unknown {
    if (!this.doc) return {};
    try {
      return this.doc.toJS({ maxAliasCount: 50 });
    } catch (err) {
      // An alias without its anchor ("*name"), or one expanding past maxAliasCount.
      throw new InputError(`${this.origin}: not valid YAML or JSON: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`, undefined, undefined, this.origin);
    }
  }

  /**
   * Top-level fields given outside the text (flags, API fields) and, for the command line, the
   * flag that sets each; a value given otherwise is placed at the document's origin.
   */
  overrides: { readonly fields: ReadonlySet<string>; readonly flagOf: ((field: string) => string) | undefined } | undefined;

  /** "file:line" of a path's value, or the flag / origin that set it when it did not come from the text. */
  where(path: readonly PathKey[]): string {
    const top = path[0];
    if (typeof top === 'string' && this.overrides?.fields.has(top)) return this.overrides.flagOf?.(top) ?? this.origin;
    const line = this.lineOf(path);
    return line === undefined ? this.origin : `${this.origin}:${line}`;
  }

  lineOf(path: readonly PathKey[]): number | undefined {
    if (!this.hasText) return undefined;
    for (let depth = path.length; depth >= 0; depth--) {
      const node = this.doc!.getIn(path.slice(0, depth), true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) return this.lines.linePos(node.range[0]).line;
    }
    return undefined;
  }

  /**
   * A value as the user wrote it, for messages: a number beyond 2^53 has already lost digits
   * once parsed (2^64 reads back as 18446744073709552000), so show the source text instead.
   */
  shown(path: readonly PathKey[], value: unknown): string {
    if (typeof value === 'number' && Number.isFinite(value) && !Number.isSafeInteger(value) && this.hasText) {
      const node = this.doc!.getIn(path, true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) return this.text.slice(node.range[0], node.range[1]);
    }
    return showValue(value);
  }

  /** "file:line path" for a field that was written; "file (default for path)" for one that was not. */
  source(path: readonly PathKey[], written = true): string {
    const field = pathText(path);
    if (!written) return `${this.origin} (default: ${field} not set)`;
    const line = this.lineOf(path);
    return line === undefined ? `${this.origin} ${field}` : `${this.origin}:${line} ${field}`;
  }
}

export function pathText(path: readonly PathKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? key : `.${key}`;
  }
  return out || '(top level)';
}

function valueAt(data: unknown, path: readonly PathKey[]): unknown {
  let cur = data;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PathKey, unknown>)[key];
  }
  return cur;
}

/**
 * The field names an object schema takes at `path` (through arrays, records and optional values);
 * [] when unknown. Read from zod's public JSON Schema of the input (z.toJSONSchema), worked out
 * only when an unknown field is reported.
 */
function keysAt(schema: z.ZodType, path: readonly PathKey[]): string[] {
  interface Node {
    readonly properties?: Record<string, Node>;
    readonly items?: Node;
    readonly additionalProperties?: Node | boolean;
    readonly anyOf?: readonly Node[];
  }
  // An optional or nullable value is a choice of schemas; the object among them has the fields.
  const unwrap = (n: Node | undefined): Node | undefined => (n?.anyOf ? (n.anyOf.find((x) => x.properties || x.items || typeof x.additionalProperties === 'object') ?? n) : n);
  try {
    let node = unwrap(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Node);
    for (const key of path) {
      if (!node) return [];
      node = unwrap(typeof key === 'number' ? node.items : (node.properties?.[key] ?? (typeof node.additionalProperties === 'object' ? node.additionalProperties : undefined)));
    }
    return node?.properties ? Object.keys(node.properties) : [];
  } catch {
    return [];
  }
}

export function validate<S extends z.ZodType>(schema: S, data: unknown, src: SourceDocument, what: string): z.output<S> {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new InputError(`${src.origin}: a ${what} must be a mapping of fields, got ${showValue(data)}`);
  }
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  // A misspelt field is usually why another looks missing: unknown fields are reported first.
  const issues = [...result.error.issues].sort((x, y) => Number(y.code === 'unrecognized_keys') - Number(x.code === 'unrecognized_keys'));
  const messages = issues.slice(0, 5).map((issue) => {
    const path = issue.path.filter((k): k is PathKey => typeof k !== 'symbol');
    const value = valueAt(data, path);
    if (issue.code === 'unrecognized_keys') {
      const key = issue.keys[0]!;
      const at: PathKey[] = [...path, key];
      const known = keysAt(schema, path);
      return { text: `${src.where(at)}: ${what} field ${pathText(at)}: unknown${didYouMean(key, known)}${known.length > 0 ? `; the fields here are ${known.join(', ')}` : ''}`, path: at, value: key };
    }
    const where = src.where(path);
    if (value === undefined) {
      const flag = path.length === 1 && typeof path[0] === 'string' ? src.overrides?.flagOf?.(path[0]) : undefined;
      const why = issue.code === 'invalid_type' ? '' : `: ${issue.message}`; // zod's own text would only repeat "missing"
      return { text: `${where}: ${what} field ${pathText(path)} is missing${flag ? ` (set it with ${flag} or in a --request file)` : ''}${why}`, path, value };
    }
    return { text: `${where}: ${what} field ${pathText(path)} = ${src.shown(path, value)}: ${issue.message}`, path, value };
  });
  const more = result.error.issues.length > 5 ? `\n(${result.error.issues.length - 5} more errors)` : '';
  const first = messages[0]!;
  throw new InputError(messages.map((m) => m.text).join('\n') + more, pathText(first.path), first.value);
}

export function fail(src: SourceDocument, path: PathKey[], message: string, value: unknown): never {
  throw new InputError(`${src.where(path)}: ${pathText(path)} = ${src.shown(path, value)}: ${message}`, pathText(path), value);
}

export function readText(file: string, what: 'platform profile' | 'request'): string {
  return readInputText(file, { what, field: what === 'request' ? 'request' : 'platform', maxBytes: what === 'request' ? LIMITS.request : LIMITS.profile });
}
