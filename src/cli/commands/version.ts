import { ciloVersion } from "../../version.ts";
import { println } from "../output.ts";

/** `cilo version`: the same line as `cilo --version`. */
export default async function version(): Promise<number> {
  println(`cilo ${ciloVersion()}`);
  return 0;
}
