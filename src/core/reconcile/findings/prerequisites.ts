import { defineFinding } from "./define.ts";

/** What cilo cannot work without: found, `cilo doctor` exits 3; never fixed automatically. */
export const PREREQUISITE_FINDINGS = {
  "docker-unreachable": defineFinding({ severity: "error", target: "component", phase: 10, prerequisite: true, describe: "the Docker engine does not answer" }),
  "compose-missing": defineFinding({ severity: "error", target: "component", phase: 10, prerequisite: true, describe: "no compose CLI answers `version`" }),
  "dnsmasq-missing": defineFinding({ severity: "error", target: "component", phase: 10, prerequisite: true, describe: "no dnsmasq binary" }),
  "state-missing": defineFinding({ severity: "error", target: "component", phase: 10, prerequisite: true, describe: "state.json does not exist (cilo init)" }),
  "host-unreachable": defineFinding({
    severity: "error",
    target: "component",
    phase: 10,
    prerequisite: true,
    describe: "the engine of a host that envs run on does not answer",
  }),
  "state-too-new": defineFinding({ severity: "error", target: "component", phase: 10, prerequisite: true, describe: "state.json was written by a newer cilo" }),
};
