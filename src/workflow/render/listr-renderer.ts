import { Listr, type ListrTask, PRESET_TIMER } from "listr2";
import type { PlannedStep, StepPath, WorkflowEvent, WorkflowRenderer } from "../events.ts";
import { summaryLines } from "./summary.ts";

type StepStart = Extract<WorkflowEvent, { type: "step_start" }>;
type StepEnd = Extract<WorkflowEvent, { type: "step_end" }>;
/** What a task learns first about its step: it started, it ended without starting (skipped), or the run ended. */
type First = StepStart | StepEnd | "run-ended";

/**
 * The interactive renderer for terminals: listr2's default renderer (spinners, nested tasks, the
 * last output lines under the running step). The engine drives the steps; each listr task only
 * mirrors its step's events. Notices and the summary are printed once listr is done.
 */
export function listrRenderer(write: (text: string) => void = (t) => process.stdout.write(t)): WorkflowRenderer {
  const steps = new StepTracker();
  const notices: string[] = [];
  let end: Extract<WorkflowEvent, { type: "workflow_end" }> | undefined;
  let running: Promise<unknown> = Promise.resolve();

  const taskFor = (node: PlannedStep): ListrTask => ({
    title: node.title,
    rendererOptions: { outputBar: 5, persistentOutput: false },
    task: async (_ctx, task) => {
      const first = await steps.first(node.path);
      if (first === "run-ended") return task.skip(`${node.title} (not run)`);
      if (first.type === "step_end") return task.skip(`${first.title} (skipped: ${first.reason ?? first.outcome})`);
      task.title = first.title;
      steps.onOutput(node.path, (line) => {
        task.output = line;
      });
      if (node.children) return task.newListr(node.children.map(taskFor), { concurrent: node.action === "parallel", exitOnError: false });
      const done = await steps.end(node.path);
      if (done === "run-ended") return task.skip(`${first.title} (stopped)`);
      if (done.outcome === "failure" || done.outcome === "cancelled")
        throw new Error(`${done.title}: ${done.outcome === "cancelled" ? "cancelled, " : ""}${(done.error ?? "").split("\n")[0]}`);
      return undefined;
    },
  });

  /** Clean-up the engine does on its own (destroying envs the run created) shows as one last task. */
  const cleanupTask: ListrTask = {
    task: async (_ctx, task) => {
      const first = await steps.firstCleanup();
      if (first === "run-ended") return;
      task.title = "clean up";
      steps.onOutput("cleanup", (line) => {
        task.output = line;
      });
      await steps.runEnded();
      const failed = end?.steps.filter((s) => s.path.startsWith("cleanup.") && s.outcome === "failure") ?? [];
      if (failed.length > 0) throw new Error(failed.map((s) => `${s.title}: ${s.error ?? ""}`.split("\n")[0]).join("; "));
    },
  };

  /**
   * The last line on screen: empty until a notice arrives during the run (an interrupt), then that
   * notice at once — not only after a clean-up that may take many seconds. listr2 draws a pending
   * task's title, so setting it shows it on the next frame.
   */
  const noticeTask: ListrTask = {
    task: (_ctx, task) => (task.title ? task.skip(task.title) : undefined),
  };
  let listr: Listr | undefined;

  return {
    onEvent(e: WorkflowEvent) {
      switch (e.type) {
        case "workflow_start":
          listr = new Listr([...e.steps.map(taskFor), cleanupTask, noticeTask], {
            concurrent: false,
            exitOnError: false,
            registerSignalListeners: false,
            rendererOptions: { collapseSubtasks: false, collapseSkips: true, showErrorMessage: true, timer: PRESET_TIMER },
          });
          running = listr.run().catch(() => {});
          break;
        case "step_start":
        case "step_end":
          steps.record(e);
          break;
        case "step_output":
          steps.output(e.path, e.line);
          break;
        case "step_retry":
          steps.output(e.path, `retrying (attempt ${e.attempt}): ${e.error.split("\n")[0]}`);
          break;
        case "notice": {
          notices.push(e.message);
          const last = listr?.tasks.at(-1);
          if (last && !end) last.title = `! ${e.message.split("\n")[0]}`;
          break;
        }
        case "workflow_end":
          end = e;
          steps.finish();
          break;
      }
    },
    async done() {
      await running;
      for (const n of notices) write(`${n}\n`);
      if (end) write(`${summaryLines(end).join("\n")}\n`);
    },
  };
}

/** The events of each step as promises the listr tasks can await. */
class StepTracker {
  private readonly starts = new Map<StepPath, First>();
  private readonly ends = new Map<StepPath, StepEnd | "run-ended">();
  private readonly waiters: (() => void)[] = [];
  private readonly listeners = new Map<StepPath, (line: string) => void>();
  private ended = false;

  record(e: StepStart | StepEnd): void {
    if (!this.starts.has(e.path)) this.starts.set(e.path, e);
    if (e.type === "step_end") this.ends.set(e.path, e);
    this.wake();
  }

  output(path: StepPath, line: string): void {
    (this.listeners.get(path) ?? this.listeners.get(path.split(".")[0]!))?.(line);
  }

  onOutput(path: StepPath, listener: (line: string) => void): void {
    this.listeners.set(path, listener);
  }

  finish(): void {
    this.ended = true;
    this.wake();
  }

  first(path: StepPath): Promise<First> {
    return this.until(() => this.starts.get(path) ?? (this.ended ? "run-ended" : undefined));
  }

  end(path: StepPath): Promise<StepEnd | "run-ended"> {
    return this.until(() => this.ends.get(path) ?? (this.ended ? "run-ended" : undefined));
  }

  firstCleanup(): Promise<First> {
    return this.until(() => [...this.starts.entries()].find(([p]) => p.startsWith("cleanup."))?.[1] ?? (this.ended ? "run-ended" : undefined));
  }

  runEnded(): Promise<true> {
    return this.until(() => (this.ended ? true : undefined));
  }

  private until<T>(probe: () => T | undefined): Promise<T> {
    return new Promise((resolve) => {
      const check = () => {
        const v = probe();
        if (v === undefined) return false;
        resolve(v);
        return true;
      };
      const waiter = () => {
        if (!check()) this.waiters.push(waiter);
      };
      waiter();
    });
  }

  private wake(): void {
    const pending = this.waiters.splice(0);
    for (const w of pending) w();
  }
}
