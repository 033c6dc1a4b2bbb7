export type LineOutput = (line: string, stream: "stdout" | "stderr") => void;

/** Turns chunks of output into whole lines; `skipBlank` drops empty ones (compose's progress has many). */
export function lineBuffer(output: LineOutput, skipBlank = false): { write: (chunk: string, stream?: "stdout" | "stderr") => void; flush: () => void } {
  const partial = { stdout: "", stderr: "" };
  const emit = (line: string, stream: "stdout" | "stderr") => {
    if (!skipBlank || line.trim() !== "") output(line, stream);
  };
  return {
    write(chunk, stream = "stderr") {
      const lines = (partial[stream] + chunk).split("\n");
      partial[stream] = lines.pop() ?? "";
      for (const l of lines) emit(l.replace(/\r$/, ""), stream);
    },
    flush() {
      for (const stream of ["stdout", "stderr"] as const) {
        if (partial[stream] !== "") emit(partial[stream], stream);
        partial[stream] = "";
      }
    },
  };
}
