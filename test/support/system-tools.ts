import { execFileSync } from "node:child_process";

/*
 * Third-party verifiers the tests run: poppler (pdftotext, pdfsig, pdfdetach) and NSS's
 * certutil. On a fresh Debian machine where the tests run as root they are installed here,
 * so `npm test` needs nothing installed by hand; elsewhere the message says what to install.
 */

const NEEDED: Record<string, string> = {
  pdftotext: "poppler-utils",
  pdfdetach: "poppler-utils",
  pdfsig: "poppler-utils",
  certutil: "libnss3-tools",
};

const missing = () =>
  Object.keys(NEEDED).filter((tool) => {
    try {
      execFileSync("which", [tool], { stdio: "ignore" });
      return false;
    } catch {
      return true;
    }
  });

export default function setup() {
  let absent = missing();
  if (absent.length === 0) return;
  const packages = [...new Set(absent.map((t) => NEEDED[t]!))];
  if (process.getuid?.() === 0) {
    process.stderr.write(`[tools] installing ${packages.join(" ")} with apt-get\n`);
    execFileSync("apt-get", ["update", "-qq"], { stdio: "ignore" });
    execFileSync("apt-get", ["install", "-y", "-qq", ...packages], {
      stdio: "ignore",
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
    absent = missing();
  }
  if (absent.length)
    throw new Error(
      `tests need ${absent.join(", ")}: install ${packages.join(" ")} (apt-get install ${packages.join(" ")})`,
    );
}
