import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node, type Scalar } from "yaml";

/** A step into a YAML value: a mapping key or a list index. */
export type Segment = string | number;

export interface Position {
  line: number;
  column: number;
}

/** Finds where values of a parsed YAML document are written, by their path. */
export class SourceMap {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly text: string,
  ) {}

  /**
   * The position of the value at `path` (`"value"`), or of the key that holds it (`"key"`). When
   * the path goes further than the file (a missing key), the deepest existing value is used.
   */
  position(path: readonly Segment[], target: "key" | "value"): Position {
    const { node, key } = this.find(path);
    const keyStart = key?.range?.[0];
    const valueStart = node && !isEmpty(node) ? node.range?.[0] : undefined;
    const offset = target === "key" ? (keyStart ?? valueStart) : (valueStart ?? keyStart);
    return this.at(offset ?? 0);
  }

  /**
   * The position of character `index` of the string value at `path`, for errors inside `${{ }}`.
   * Exact where the value is written as is (plain, quoted without escapes, block lines); otherwise
   * the start of the value.
   */
  positionInString(path: readonly Segment[], index: number): Position {
    const { node } = this.find(path);
    if (!node || !isScalar(node) || typeof node.value !== "string" || !node.range) return this.position(path, "value");
    return this.at(stringOffset(this.text, node as Scalar<string>, index));
  }

  at(offset: number): Position {
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  /** The node at `path` and, when it is a mapping value, its key node; stops at the deepest existing node. */
  find(path: readonly Segment[]): { node?: Node; key?: Node } {
    let node = this.resolve(this.doc.contents ?? undefined);
    let key: Node | undefined;
    for (const segment of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
        if (!pair) break;
        key = pair.key as Node;
        node = this.resolve((pair.value as Node | null) ?? undefined);
      } else if (isSeq(node) && typeof segment === "number" && node.items[segment] !== undefined) {
        key = undefined;
        node = this.resolve(node.items[segment] as Node);
      } else {
        break;
      }
    }
    return { ...(node ? { node } : {}), ...(key ? { key } : {}) };
  }

  private resolve(node: Node | undefined): Node | undefined {
    return isAlias(node) ? (node.resolve(this.doc) ?? node) : node;
  }
}

function isEmpty(node: Node): boolean {
  return isScalar(node) && node.value === null && node.range?.[0] === node.range?.[1];
}

/**
 * Where character `index` of a string value is in the file. Tried in turn: the whole value
 * written as is, its line (block scalars), the text from `index` to the end of the line or word
 * (folded scalars); each must occur once. Otherwise the start of the value.
 */
function stringOffset(text: string, node: Scalar<string>, index: number): number {
  const [start, end] = node.range!;
  const raw = text.slice(start, end);
  const value = node.value;
  const lineStart = value.lastIndexOf("\n", index - 1) + 1;
  const lineEnd = value.indexOf("\n", index);
  const tail = value.slice(index, lineEnd < 0 ? value.length : lineEnd);
  const anchors: [string, number][] = [
    [value, index],
    [value.slice(lineStart, lineEnd < 0 ? value.length : lineEnd), index - lineStart],
    [tail, 0],
    [tail.split(/\s/)[0] ?? "", 0],
  ];
  for (const [piece, within] of anchors) {
    const at = piece.length > 0 ? raw.indexOf(piece) : -1;
    if (at >= 0 && raw.indexOf(piece, at + 1) < 0) return start + at + within;
  }
  return start;
}
