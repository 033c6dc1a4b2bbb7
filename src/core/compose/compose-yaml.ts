import { Document, isScalar, visit, type Pair } from "yaml";

/** Plain scalars that YAML 1.1 (PyYAML, read by docker-compose 1.29) gives a special meaning. */
const YAML11_SPECIAL = new Set(["=", "<<"]);
const MERGE_TAG = "tag:yaml.org,2002:merge";

function keyText(pair: Pair): string {
  return isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
}

function byKey(a: Pair, b: Pair): number {
  const ka = keyText(a);
  const kb = keyText(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * Renders a compose model as YAML that both compose 1.29 (YAML 1.1) and compose v2 read back as
 * the same values: mapping keys sorted by code unit at every depth, list order kept, strings that
 * YAML 1.1 would read as booleans, numbers or dates quoted, no anchors or aliases, no folding.
 * The same model always gives byte-identical text.
 */
export function stringifyComposeYaml(model: unknown): string {
  const doc = new Document(model, {
    version: "1.1",
    customTags: (tags) => tags.filter((tag) => typeof tag === "string" || tag.tag !== MERGE_TAG),
    sortMapEntries: byKey,
    aliasDuplicateObjects: false,
  });
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === "string" && YAML11_SPECIAL.has(node.value)) node.type = "QUOTE_DOUBLE";
    },
  });
  return doc.toString({ lineWidth: 0 });
}
