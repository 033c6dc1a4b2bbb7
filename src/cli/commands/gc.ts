// Placeholder so the bundle builds while this command is being written; replaced by its module.
import { CiloError } from "../../core/errors.ts";

export default async function gc(): Promise<number> {
  throw new CiloError("E_NOT_READY", "cilo gc is not available in this build");
}
