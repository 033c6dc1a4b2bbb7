import { subjectOf, type Finding, type FindingId, type FindingTarget } from "../finding.ts";
import type { FindingDef } from "./define.ts";
import { DNS_FINDINGS } from "./dns.ts";
import { DOCKER_FINDINGS } from "./docker.ts";
import { ENV_FINDINGS } from "./envs.ts";
import { GATEWAY_FINDINGS } from "./gateway.ts";
import { FORWARD_FINDINGS } from "./forward.ts";
import { HOME_FILE_FINDINGS } from "./home-files.ts";
import { PREREQUISITE_FINDINGS } from "./prerequisites.ts";
import { REMOTE_GATEWAY_FINDINGS } from "./remote-gateway.ts";
import { SHARED_FINDINGS } from "./shared.ts";
import { STATE_FILE_FINDINGS } from "./state-file.ts";

/**
 * Every finding of `cilo doctor`, by its stable id: what it is (severity, target, repair phase) and
 * how `--fix` repairs it. Adding one: an entry in a group file (or a new group spread in here), the
 * code in diagnose.ts that finds it, a row in docs/doctor.md, and a test.
 */
export const FINDINGS = {
  ...PREREQUISITE_FINDINGS,
  ...STATE_FILE_FINDINGS,
  ...HOME_FILE_FINDINGS,
  ...ENV_FINDINGS,
  ...DOCKER_FINDINGS,
  ...SHARED_FINDINGS,
  ...DNS_FINDINGS,
  ...GATEWAY_FINDINGS,
  ...FORWARD_FINDINGS,
  ...REMOTE_GATEWAY_FINDINGS,
};

/** The target kind findings with id `I` are about. */
export type TargetOf<I extends FindingId> = Extract<FindingTarget, { kind: (typeof FINDINGS)[I]["target"] }>;

/** The entry of a finding id. */
export function findingDef(id: FindingId): FindingDef {
  return FINDINGS[id] as FindingDef;
}

/** A finding of `id` about `target`, with its severity from the registry and its subject from the target. */
export function finding<I extends FindingId>(id: I, target: TargetOf<I>, message: string, fix: string | null): Finding {
  return { id, severity: FINDINGS[id].severity, subject: subjectOf(target), message, fix, target };
}
