import type { ContainerState } from "../runtime/provider.ts";
import type { EnvRecord, OperationMarker } from "../state/schema.ts";

/** The operation an env is in, or was left in: its marker, or what a transitional status implies. */
export function interruptedOperation(rec: EnvRecord): OperationMarker | undefined {
  if (rec.operation) return rec.operation;
  const kind = ({ creating: "create", starting: "up", destroying: "destroy" } as const)[rec.status as "creating" | "starting" | "destroying"];
  return kind ? { kind, pid: 0, started_at: rec.updated_at } : undefined;
}

/** A container that does its job: running, or a one-shot that exited 0. */
export function isLive(c: ContainerState): boolean {
  return c.state === "running" || (c.state === "exited" && c.exitCode === 0);
}
