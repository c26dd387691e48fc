import type { z } from "zod";

/** Zod issues as `path: message` lines a person can act on. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((i) => {
      const path = i.path.length ? i.path.map(String).join(".") : "(top level)";
      const keys =
        i.code === "unrecognized_keys" ? ` (${i.keys.join(", ")}): remove it or fix its spelling` : "";
      return `  ${path}: ${i.message}${keys}`;
    })
    .join("\n");
}
