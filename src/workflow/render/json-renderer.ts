import type { WorkflowEvent, WorkflowRenderer } from "../events.ts";

/** `--json`: every event as one line of JSON (NDJSON), for agents and scripts. */
export function jsonRenderer(write: (text: string) => void = (t) => process.stdout.write(t)): WorkflowRenderer {
  return {
    onEvent(e: WorkflowEvent) {
      write(`${JSON.stringify(e)}\n`);
    },
    async done() {},
  };
}
