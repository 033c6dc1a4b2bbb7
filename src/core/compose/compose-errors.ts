import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { type Segment, SourceMap } from "../yaml-source-map.ts";

/** Where compose read the project and where the user wrote it. */
export interface ComposeSource {
  /** The folder compose ran in (an env's workspace). */
  dir: string;
  /** The compose files, relative to `dir` or absolute. */
  files: string[];
  /**
   * The user's project folder the workspace was made from: a file is named there when it has the
   * same content as the workspace's copy (the line numbers hold), else the copy is named.
   */
  sourceDir?: string;
}

/**
 * compose's whole complaint about an invalid project as one line (issue 14 item 3b): every issue
 * compose lists (v1 stops its first line at "is invalid because:"), each led by the user's file
 * and line (`/src/shop/compose.yml:6: services.web.ports contains an invalid type, …`), issues
 * separated by "; ". YAML syntax errors keep their own positions, moved to the user's file.
 */
export function invalidComposeMessage(output: string, src: ComposeSource): string {
  const files = new Files(src);
  let current = src.files[0] ?? "docker-compose.yml";
  const issues: string[] = [];
  for (const raw of output.split("\n")) {
    const line = raw.trim().replace(/^ERROR:\s*/, "");
    if (line.length === 0 || /^WARN(ING)?\b/.test(line)) continue;
    const header = /^The Compose file '(.+?)' is invalid because:?$/.exec(line);
    if (header) {
      current = header[1]!;
      continue;
    }
    const validating = /^validating (\S+?): (.*)$/.exec(line);
    if (validating) current = validating[1]!;
    const text = validating ? validating[2]! : line;
    const yamlPos = /(?:^| )in "(.+?)", line (\d+), column (\d+)$/.exec(text);
    if (yamlPos) {
      // v1 (PyYAML): "<problem>" then "  in "./x.yml", line 4, column 14" lines; keep them together.
      const at = `${files.named(yamlPos[1]!)}:${yamlPos[2]}:${yamlPos[3]}`;
      const before = text.slice(0, yamlPos.index);
      if (before.length > 0) issues.push(`${before} at ${at}`);
      else if (issues.length > 0) issues[issues.length - 1] += ` at ${at}`;
      else issues.push(at);
      continue;
    }
    const yamlLine = /^(?:yaml: )?line (\d+): (.*)$/.exec(text);
    if (yamlLine) {
      issues.push(`${files.named(current)}:${yamlLine[1]}: ${yamlLine[2]}`);
      continue;
    }
    const path = modelPath(text);
    const where = path ? files.line(current, path) : undefined;
    issues.push(where ? `${where}: ${files.sourced(text)}` : files.sourced(text));
  }
  return issues.join("; ");
}

/** The model path an issue is about: `services.web.ports contains …`, `Unsupported config option for services.web: 'foo'`, v2's `services.web additional properties 'foo' not allowed`. */
function modelPath(issue: string): Segment[] | undefined {
  const unsupported = /^Unsupported config option for ([\w.-]+): '([^']+)'/.exec(issue);
  if (unsupported) return [...unsupported[1]!.split("."), unsupported[2]!];
  const dotted = /^((?:services|networks|volumes|configs|secrets)\.[\w.-]+?)(?:\[(\d+)\])?(?: |:)(.*)$/.exec(issue);
  if (!dotted) return undefined;
  const path: Segment[] = dotted[1]!.split(".");
  if (dotted[2] !== undefined) path.push(Number(dotted[2]));
  const extra = /^(?:additional propert(?:y|ies) '?([\w.-]+)'? (?:is |are )?not allowed|Additional property ([\w.-]+) is not allowed)/i.exec(dotted[3]!);
  const key = extra?.[1] ?? extra?.[2];
  if (key) path.push(key);
  return path;
}

class Files {
  private readonly maps = new Map<string, SourceMap | undefined>();

  constructor(private readonly src: ComposeSource) {}

  /** The absolute path of a file compose named (relative to the folder it ran in, or absolute). */
  private inWorkspace(file: string): string {
    return isAbsolute(file) ? file : join(this.src.dir, file);
  }

  /** The user's file for a workspace file when both hold the same text, else the workspace file. */
  named(file: string): string {
    const copy = this.inWorkspace(file);
    const { sourceDir, dir } = this.src;
    if (!sourceDir) return copy;
    const rel = relative(dir, copy);
    if (rel.startsWith("..") || isAbsolute(rel)) return copy;
    const original = join(sourceDir, rel);
    try {
      return existsSync(original) && readFileSync(original, "utf8") === readFileSync(copy, "utf8") ? original : copy;
    } catch {
      return copy;
    }
  }

  /** `<file>:<line>` of the key at `path` (or the deepest part of it the file has). */
  line(file: string, path: Segment[]): string | undefined {
    const copy = this.inWorkspace(file);
    if (!this.maps.has(copy)) this.maps.set(copy, sourceMap(copy));
    const map = this.maps.get(copy);
    if (!map) return undefined;
    return `${this.named(file)}:${map.position(path, "key").line}`;
  }

  /** The text with the workspace folder replaced by the user's, where it names files there. */
  sourced(text: string): string {
    const { sourceDir, dir } = this.src;
    return sourceDir ? text.split(dir).join(sourceDir) : text;
  }
}

function sourceMap(file: string): SourceMap | undefined {
  try {
    const text = readFileSync(file, "utf8");
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines });
    return new SourceMap(doc, lines, text);
  } catch {
    return undefined;
  }
}

/** An image compose could not pull, and why (issue 14 item 3e). */
export interface PullFailure {
  service: string;
  image: string;
  reason: string;
}

/**
 * Finds a failed image pull in the output of `compose up`. v1 pulls one image at a time and says
 * `Pulling api (cilo-test/x:1)...` first; a pull that got nowhere is followed by no progress
 * (`Digest:`, `Status:`) and no `Creating`. v2 marks the service (`api Error`) and the daemon's
 * answer names the image. `images` maps each service to its image (from the rendered model).
 */
export function pullFailure(output: string, images: Record<string, string>): PullFailure | undefined {
  const lines = output
    .split("\n")
    .map((l) => l.trim().replace(/^ERROR:\s*/, ""))
    .filter((l) => l.length > 0 && !/^WARN(ING)?\b/.test(l));
  const reasonIn = (from: string[]) => from.filter((l) => !/^[0-9a-f]{12}: |: Pulling from |^(Pulling|Waiting|Downloading|Extracting)\b/.test(l)).at(-1);
  let last = -1;
  lines.forEach((l, i) => {
    if (/^Pulling \S+ \(.+\)\.\.\.$/.test(l)) last = i;
  });
  if (last >= 0) {
    const after = lines.slice(last + 1);
    if (after.some((l) => /^(Creating|Starting|Recreating|Digest:|Status:)/.test(l))) return undefined;
    const [, service, image] = /^Pulling (\S+) \((.+)\)\.\.\.$/.exec(lines[last]!)!;
    const reason = reasonIn(after);
    return reason ? { service: service!, image: image!, reason } : undefined;
  }
  for (const l of lines) {
    const marked = /^(?:[^\w\s]+\s*)?([\w.-]+)\s+Error\b\s*(.*?)(?:\s+[\d.]+s)?$/.exec(l);
    const service = marked?.[1];
    if (!service || !(service in images)) continue;
    const reason = marked[2] || lines.find((x) => /^Error response from daemon:|pull access denied|manifest .*not found/i.test(x));
    return { service, image: images[service]!, reason: (reason ?? "the pull failed").replace(/^Error response from daemon:\s*/, "") };
  }
  const denied = lines.find((l) => /pull access denied for ([^\s,]+)|manifest for (\S+) not found/.test(l));
  if (denied) {
    const named = /pull access denied for ([^\s,]+)|manifest for (\S+) not found/.exec(denied)!;
    const repo = named[1] ?? named[2]!;
    const hit = Object.entries(images).find(([, image]) => image === repo || image.split(/[:@]/)[0] === repo.split(/[:@]/)[0]);
    if (hit) return { service: hit[0], image: hit[1], reason: denied.replace(/^Error response from daemon:\s*/, "") };
  }
  return undefined;
}
