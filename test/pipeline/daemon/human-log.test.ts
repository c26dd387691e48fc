import { describe, expect, it } from "vitest";
import { humanLine } from "../../../src/pipeline/daemon/human-log.js";

describe("human-readable log lines", () => {
  it("puts time, level, job and message first, then the other fields", () => {
    const line = JSON.stringify({
      level: 30,
      time: Date.parse("2026-05-01T12:00:03.456Z"),
      pid: 7,
      hostname: "h",
      name: "sealgate",
      job: "sync",
      model: "credit-risk",
      version: "2",
      sealed: 1,
      msg: "sealed",
    });
    expect(humanLine(line)).toBe("12:00:03 INFO  [sync] sealed model=credit-risk version=2 sealed=1");
  });

  it("keeps a redacted value redacted and passes a line that is not JSON through", () => {
    expect(humanLine(JSON.stringify({ level: 40, msg: "refused", secret: "[REDACTED]" }))).toBe(
      "--:--:-- WARN  refused secret=[REDACTED]",
    );
    expect(humanLine("not json")).toBe("not json");
  });
});
