import { collectIdleShared, releaseShared } from "../../shared/shared-instance.ts";
import { defineFinding } from "./define.ts";
import { removeDockerResource } from "./fix-helpers.ts";

/** Shared instances (SPEC §8) whose users, services or resources disagree with the state. */
export const SHARED_FINDINGS = {
  "shared-user-missing": defineFinding({
    severity: "warning",
    target: "shared-user",
    phase: 5,
    describe: "a shared service lists a user env that no longer exists",
    fix: async (t, ctx) => {
      await releaseShared(ctx, t.project, t.user);
      return `forgot ${t.user} as a user`;
    },
  }),
  "shared-idle-expired": defineFinding({
    severity: "warning",
    target: "shared-service",
    phase: 6,
    describe: "a shared service without users past its grace period",
    fix: async (t, ctx) => {
      const stopped = await collectIdleShared(ctx, t.project);
      return stopped.length > 0 ? `stopped ${stopped.join(", ")}` : "nothing left to stop";
    },
  }),
  "shared-orphaned": defineFinding({
    severity: "warning",
    target: "docker",
    phase: 6,
    describe: "a shared resource of this home with no shared instance in state",
    fix: removeDockerResource,
  }),
  "shared-service-missing": defineFinding({ severity: "error", target: "shared-service", phase: 10, describe: "a shared service that envs use does not run" }),
};
