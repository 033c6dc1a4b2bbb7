import type { PlannedStep, StepPath } from "./events.ts";
import { includedWorkflow, type LoadedWorkflow } from "./load.ts";
import { actionOf, type Step, type WaitAction } from "./types.ts";

/** The steps of a workflow as renderers announce them: titles, paths, and the children of `parallel` and `include`. */
export function planWorkflow(loaded: LoadedWorkflow, prefix = ""): PlannedStep[] {
  return loaded.workflow.steps.map((step, i) => planStep(loaded, step, `${prefix}${i + 1}`));
}

function planStep(loaded: LoadedWorkflow, step: Step, path: StepPath): PlannedStep {
  const action = actionOf(step);
  const node: PlannedStep = { path, title: stepTitle(step), action, ...(step.id ? { id: step.id } : {}) };
  if ("parallel" in step) node.children = step.parallel.map((child, i) => planStep(loaded, child, `${path}.${i + 1}`));
  if ("include" in step) node.children = planWorkflow(includedWorkflow(loaded, step), `${path}.`);
  return node;
}

/** The title of a step: its `name`, else a short description of its action. */
export function stepTitle(step: Step): string {
  if (step.name !== undefined && step.name.trim() !== "") return step.name;
  if ("clone" in step) {
    const c = step.clone;
    if (c.git) return `clone ${c.git}${c.ref ? `@${c.ref}` : ""}`;
    return `clone ${c.from ?? "."}${c.mode ? ` (${c.mode})` : ""}`;
  }
  if ("create" in step) return step.create.env ? `create env ${step.create.env}` : "create env";
  if ("up" in step) return "up";
  if ("down" in step) return "down";
  if ("destroy" in step) return "destroy env";
  if ("wait" in step) return `wait for ${waitConditions(step.wait).join(", ")}`;
  if ("run" in step) return `run ${shorten(firstLine(step.run))}`;
  if ("exec" in step) {
    const cmd = typeof step.exec.command === "string" ? step.exec.command : step.exec.command.join(" ");
    return `exec in ${step.exec.service}: ${shorten(firstLine(cmd))}`;
  }
  if ("parallel" in step) return `parallel (${step.parallel.length} steps)`;
  return `include ${step.include}`;
}

function waitConditions(w: WaitAction): string[] {
  const out: string[] = [];
  if (w.healthy !== undefined && w.healthy !== false) out.push(w.healthy === true ? "healthy services" : `healthy ${w.healthy.join(", ")}`);
  if (w.http !== undefined) out.push(typeof w.http === "string" ? w.http : w.http.url);
  if (w.tcp !== undefined) out.push(`tcp ${w.tcp}`);
  if (w.log !== undefined) out.push(`log of ${w.log.service}`);
  if (w.exit !== undefined) out.push(`exit of ${w.exit.service}`);
  return out.length > 0 ? out : ["nothing"];
}

function firstLine(text: string): string {
  const lines = text.trim().split("\n");
  return lines.length > 1 ? `${lines[0]!.trim()} …` : (lines[0] ?? "").trim();
}

function shorten(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
