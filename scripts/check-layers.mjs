// Checks the import rules in .dependency-cruiser.cjs (layers cli -> workflow -> core, providers
// implementing core's interface, no cycles between files or folders, no orphans, only bundled
// packages) over src/. Prints each violation and exits 1 when there is any.
//
// Uses dependency-cruiser's API rather than its CLI: the `depcruise` command refuses to start on
// Node 20, which cilo still supports, while the API it wraps runs there.
import { cruise } from "dependency-cruiser";
import extractDepcruiseOptions from "dependency-cruiser/config-utl/extract-depcruise-options";
import extractTSConfig from "dependency-cruiser/config-utl/extract-ts-config";

process.chdir(new URL("..", import.meta.url).pathname);
const options = await extractDepcruiseOptions("./.dependency-cruiser.cjs");
const tsConfig = extractTSConfig(options.ruleSet.options?.tsConfig?.fileName ?? "tsconfig.json");
const result = await cruise(["src"], { ...options, ...options.ruleSet.options, outputType: "err" }, {}, { tsConfig });
process.stdout.write(result.output);
process.exitCode = result.exitCode === 0 ? 0 : 1;
