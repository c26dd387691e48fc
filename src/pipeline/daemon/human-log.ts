import { Writable } from "node:stream";

/*
 * pino JSON turned into one readable line per entry for a person at a terminal:
 * `12:00:03 INFO  [sync] sealed model=credit-risk version=2`. Redaction has already happened
 * in pino before a line reaches this stream; machines (not a TTY) keep the JSON.
 */

const LEVELS: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO",
  40: "WARN",
  50: "ERROR",
  60: "FATAL",
};
const OMIT = new Set(["level", "time", "pid", "hostname", "name", "msg", "job", "component"]);

export function humanLine(json: string): string {
  let e: Record<string, unknown>;
  try {
    e = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof e.time === "number" ? new Date(e.time).toISOString().slice(11, 19) : "--:--:--";
  const level = (LEVELS[e.level as number] ?? String(e.level)).padEnd(5);
  const who = e.job ?? e.component;
  const fields = Object.entries(e)
    .filter(([k]) => !OMIT.has(k))
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
  return [time, level, who ? `[${String(who)}]` : "", String(e.msg ?? ""), ...fields]
    .filter(Boolean)
    .join(" ");
}

export function humanStream(out: NodeJS.WritableStream = process.stderr): Writable {
  let buf = "";
  return new Writable({
    write(chunk, _enc, cb) {
      buf += String(chunk);
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        out.write(`${humanLine(buf.slice(0, nl))}\n`);
        buf = buf.slice(nl + 1);
      }
      cb();
    },
  });
}
