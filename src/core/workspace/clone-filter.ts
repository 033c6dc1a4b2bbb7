import ignore from "ignore";

/** Which entries of a project folder a copy takes. Paths are relative to the folder, `/`-separated. */
export interface CloneFilter {
  /** Whether the entry is copied. */
  copies(rel: string, isDir: boolean): boolean;
  /** Whether to walk into a folder that is not copied, because an include pattern may match below it. */
  descends(rel: string): boolean;
}

export interface CloneFilterRules {
  /** The text of the project's `.ciloignore` (gitignore syntax). */
  ignoreFile?: string;
  /** More patterns excluded like `.ciloignore` lines (`clone.exclude`). */
  exclude?: string[];
  /** Patterns (gitignore syntax) copied even when excluded; a folder that matches is copied whole. */
  include?: string[];
}

type Segment = "**" | ReturnType<typeof ignore>;

/**
 * The copy rule: an entry is copied unless `.ciloignore` or `exclude` excludes it (or a folder
 * above it), and an excluded entry is copied anyway when an `include` pattern matches it or a
 * folder above it. Unlike git, an include reaches into excluded folders: `dist/config.json`
 * brings that one file of an excluded `dist/`. A pattern without a slash (`*.env`) may match at
 * any depth, so it makes the copy walk every excluded folder; anchor it (`config/*.env`) to keep
 * large excluded folders such as `node_modules/` unwalked.
 */
export function cloneFilter(rules: CloneFilterRules): CloneFilter {
  const excluded = ignore()
    .add(rules.ignoreFile ?? "")
    .add(rules.exclude ?? []);
  const include = (rules.include ?? []).map((p) => p.trim()).filter((p) => p !== "" && !p.startsWith("#"));
  const included = ignore().add(include);
  const reaches = include.filter((p) => !p.startsWith("!")).map(patternSegments);
  return {
    copies(rel, isDir) {
      const path = isDir ? `${rel}/` : rel;
      return !excluded.ignores(path) || included.ignores(path);
    },
    descends(rel) {
      const dirs = rel.split("/");
      return reaches.some((segs) => segs === "anywhere" || mayMatchBelow(segs, dirs));
    },
  };
}

/** An anchored pattern as per-segment matchers; a pattern without an inner slash matches anywhere. */
function patternSegments(pattern: string): Segment[] | "anywhere" {
  const body = pattern.replace(/\/+$/, "");
  if (!body.includes("/")) return "anywhere";
  return body
    .replace(/^\/+/, "")
    .split("/")
    .map((seg) => (seg === "**" ? "**" : ignore().add(`/${seg}`)));
}

function mayMatchBelow(segs: Segment[], dirs: string[]): boolean {
  for (const [i, dir] of dirs.entries()) {
    const seg = segs[i];
    if (seg === undefined || seg === "**") return true;
    if (!seg.ignores(dir)) return false;
  }
  return true;
}
