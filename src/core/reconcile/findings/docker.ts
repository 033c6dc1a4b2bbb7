import { CiloError } from "../../errors.ts";
import { LABEL_ENV, LABEL_HOME, LABEL_MANAGED, LABEL_PROJECT } from "../../labels.ts";
import { readState } from "../../state/store.ts";
import type { FindingTarget } from "../finding.ts";
import { defineFinding, type FixContext } from "./define.ts";
import { removeDockerResource } from "./fix-helpers.ts";

type DockerTarget = Extract<FindingTarget, { kind: "docker" }>;

/** cilo-labelled Docker resources of envs that do not exist; containers go before what they hold. */
export const DOCKER_FINDINGS = {
  "container-orphaned": defineFinding({
    severity: "warning",
    target: "docker",
    phase: 5,
    describe: "a container of this CILO_HOME whose env does not exist",
    fix: removeOrphan,
  }),
  "network-orphaned": defineFinding({
    severity: "warning",
    target: "docker",
    phase: 6,
    describe: "a network of this CILO_HOME whose env does not exist",
    fix: removeOrphan,
  }),
  "volume-orphaned": defineFinding({
    severity: "warning",
    target: "docker",
    phase: 7,
    describe: "a volume of this CILO_HOME whose env does not exist",
    fix: removeOrphan,
  }),
  "resource-foreign": defineFinding({
    severity: "info",
    target: "docker",
    phase: 7,
    onlyWith: "foreign",
    describe: "a cilo-labelled resource of a CILO_HOME that no longer exists, or of none",
    fix: removeDockerResource,
  }),
};

/** Removes a cilo-labelled resource after checking, against the state as it is now, that no env owns it. */
async function removeOrphan(t: DockerTarget, ctx: FixContext): Promise<string> {
  const provider = await ctx.provider();
  const managed = { [LABEL_MANAGED]: "true" };
  const kind = t.resource;
  const labels =
    kind === "container"
      ? (await provider.inspectContainer(t.id))?.labels
      : kind === "network"
        ? (await provider.listNetworks(managed)).find((n) => n.id === t.id)?.labels
        : (await provider.listVolumes(managed)).find((v) => v.name === t.id)?.labels;
  if (!labels) return `the ${kind} is gone already`;
  if (labels[LABEL_MANAGED] !== "true") throw new CiloError("E_NOT_CILO", `The ${kind} ${t.name} has no cilo labels; leaving it alone`);
  if (labels[LABEL_HOME] !== undefined && labels[LABEL_HOME] !== readState(ctx).home_id) {
    throw new CiloError("E_NOT_OURS", `The ${kind} ${t.name} belongs to another CILO_HOME (${labels[LABEL_HOME]}); leaving it alone`);
  }
  const key = `${labels[LABEL_PROJECT]}/${labels[LABEL_ENV]}`;
  if (readState(ctx).envs[key]) return `left it: it belongs to ${key} now`;
  return removeDockerResource(t, ctx);
}
