import { readFileSync } from "node:fs";

declare const __CILO_VERSION__: string | undefined;

/** cilo's version: baked in by the bundler, read from package.json when running from source. */
export function ciloVersion(): string {
  if (typeof __CILO_VERSION__ === "string") return __CILO_VERSION__;
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  return String(pkg.version);
}
