import { execFile } from "node:child_process";
import { mkdir, mkdtemp, open, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { VENV_PYTHON } from "../../../src/dev/venv.js";
import { hashLocalModel, omsCompare } from "../../../src/source/digest/model.js";
import type { SealgateError } from "../../../src/core/errors.js";

const run = promisify(execFile);

async function reference(
  dir: string,
): Promise<{ root: string; resources: { name: string; digest: string }[] }> {
  const { stdout } = await run(VENV_PYTHON, [join(import.meta.dirname, "oms_digest.py"), dir], {
    maxBuffer: 16 << 20,
  });
  return JSON.parse(stdout);
}

/** A model folder of awkward shape: nesting, empty files, Unicode names, names that sort differently by part. */
async function awkwardModel(bigBytes = 0): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "sealgate-model-"));
  await mkdir(join(dir, "weights/layer.0"), { recursive: true });
  await mkdir(join(dir, "weights-extra"), { recursive: true });
  await mkdir(join(dir, "tokenizer/日本"), { recursive: true });
  await mkdir(join(dir, ".git/objects"), { recursive: true });
  await writeFile(join(dir, "MLmodel"), "flavors: {}\n");
  await writeFile(join(dir, "weights/layer.0/w.bin"), Buffer.alloc(3000, 1));
  await writeFile(join(dir, "weights/a-b"), "x");
  await writeFile(join(dir, "weights-extra/c"), "y");
  await writeFile(join(dir, "weights.bin"), "z");
  await writeFile(join(dir, "EMPTY"), "");
  await writeFile(join(dir, "tokenizer/日本/vocab-ü.txt"), "Zoë\n李雷\n");
  await writeFile(join(dir, "tokenizer/😀.json"), "{}");
  await writeFile(join(dir, "tokenizer/\uff61.json"), "{}");
  await writeFile(join(dir, ".gitignore"), "*.tmp\n");
  await writeFile(join(dir, ".git/objects/pack"), "ignored");
  await writeFile(join(dir, "sub.gitignore"), "kept: only root-level git files are ignored");
  if (bigBytes) {
    // Sparse: the size is real for hashing, the disk cost is not.
    const fh = await open(join(dir, "weights/shard-big.bin"), "w");
    await fh.truncate(bigBytes);
    await fh.write(Buffer.from("end"), 0, 3, bigBytes - 3);
    await fh.close();
  }
  return dir;
}

describe("model content digest (OpenSSF model-signing v1.0)", () => {
  it("orders paths part by part and by code point, as model_signing does", () => {
    const names = [
      "weights-extra/c",
      "weights/a-b",
      "weights.bin",
      "tokenizer/\uff61.json",
      "tokenizer/😀.json",
    ];
    expect([...names].sort(omsCompare)).toEqual([
      "tokenizer/\uff61.json",
      "tokenizer/😀.json",
      "weights/a-b",
      "weights-extra/c",
      "weights.bin",
    ]);
  });

  it("equals model_signing's digest for nested folders, empty files, Unicode names and a sparse file over 1 GB", async () => {
    const dir = await awkwardModel(1_100_000_000);
    const [ours, theirs] = await Promise.all([hashLocalModel(dir), reference(dir)]);
    expect(ours.root).toBe(`sha256:${theirs.root}`);
    expect(ours.files.map((f) => ({ name: f.name, digest: f.digest }))).toEqual(theirs.resources);
    expect(ours.files.map((f) => f.name)).not.toContain(".gitignore");
    expect(ours.files.find((f) => f.name === "weights/shard-big.bin")?.size).toBe(1_100_000_000);
    expect(ours.files.find((f) => f.name === "EMPTY")).toEqual({
      name: "EMPTY",
      size: 0,
      digest: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    });
  });

  it("changes when any byte, name or file changes", async () => {
    const dir = await awkwardModel();
    const before = await hashLocalModel(dir);
    await writeFile(join(dir, "weights/a-b"), "X");
    const edited = await hashLocalModel(dir);
    expect(edited.root).not.toBe(before.root);
    await writeFile(join(dir, "new-file"), "");
    expect((await hashLocalModel(dir)).root).not.toBe(edited.root);
  });

  it("refuses symbolic links, as model_signing does by default", async () => {
    const dir = await awkwardModel();
    await symlink("/etc/passwd", join(dir, "weights/link"));
    const err = (await hashLocalModel(dir).catch((e: unknown) => e)) as SealgateError;
    expect(err.code).toBe("MODEL_UNSUPPORTED");
    await expect(reference(dir)).rejects.toThrow();
  });
});
