import type { EngineKind } from "../engine.ts";
import { prerequisiteError } from "../errors.ts";
import { envKey, type EnvRecord } from "../state/schema.ts";

/**
 * An env made on one engine is not touched through another: its containers, networks and volumes
 * are on the engine it records (`engine`), and another would start a second copy or remove nothing.
 * An env that has never been up, or was recorded before engines were, passes.
 */
export function assertSameEngine(rec: EnvRecord, engine: EngineKind | undefined): void {
  if (!engine || !rec.engine || rec.engine === engine || rec.status === "created") return;
  throw prerequisiteError(
    "E_ENGINE_MISMATCH",
    `The env ${envKey(rec.project, rec.name)} runs on ${rec.engine}, but cilo is talking to ${engine}`,
    `Point cilo at ${rec.engine} (CILO_ENGINE=${rec.engine}, DOCKER_HOST at its socket), or destroy the env there first`,
  );
}
