import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../src/dev/venv.js";
import { PUBLISHED_SCHEMAS, renderSchema } from "../src/app/schemas.js";

// SEALGATE_UPDATE_SCHEMAS=1 (npm run schemas) rewrites the files instead of comparing.
const update = process.env.SEALGATE_UPDATE_SCHEMAS === "1";

describe("schemas/ is generated from the zod definitions", () => {
  for (const [file, schema] of Object.entries(PUBLISHED_SCHEMAS)) {
    it(`${file} is current (run npm run schemas after changing a zod schema)`, async () => {
      const path = join(REPO_ROOT, "schemas", file);
      const want = renderSchema(file, schema);
      if (update) await writeFile(path, want);
      expect(await readFile(path, "utf8").catch(() => "(missing)")).toBe(want);
    });
  }
});
