import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { multipartBody } from "../multipart.js";
import { correlationOf, titleFor } from "../title.js";

const digest = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((b) => `sha256:${Buffer.from(b).toString("hex")}`);

describe("correlation in the document title", () => {
  it("any title base keeps its correlation, within 255 characters", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 600 }), digest, (base, c) => {
        const title = titleFor(base, c);
        expect(correlationOf(title)).toBe(c);
        expect(title.length).toBeLessThanOrEqual(255);
      }),
    );
  });

  it("a title that was edited or merely mentions a digest is not taken for a correlation", () => {
    fc.assert(
      fc.property(fc.string(), digest, fc.string({ minLength: 1 }), (base, c, tail) => {
        const title = titleFor(base, c);
        expect(correlationOf(`${title}${tail}`)).toBeNull();
        expect(correlationOf(`${base} ${c}`)).toBeNull();
        expect(correlationOf(title.replace(/\]$/, ""))).toBeNull();
        expect(correlationOf(title.toUpperCase())).toBeNull();
      }),
    );
  });
});

describe("multipart upload body", () => {
  it("round-trips any bytes, name and media type through a standard multipart parser", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 4096 }),
        fc.stringMatching(/^[A-Za-z0-9._ -]{1,40}$/),
        fc.string({ maxLength: 80 }),
        async (bytes, fileName, description) => {
          const { body, contentType } = multipartBody(
            { description },
            { field: "file", fileName, mediaType: "application/pdf", bytes },
          );
          const form = await new Request("http://x/", {
            method: "POST",
            headers: { "content-type": contentType },
            body: new Uint8Array(body),
          }).formData();
          const file = form.get("file") as File;
          expect(file.name).toBe(fileName);
          expect(file.type).toBe("application/pdf");
          expect(new Uint8Array(await file.arrayBuffer())).toEqual(bytes);
          expect(form.get("description")).toBe(description);
        },
      ),
      { numRuns: 50 },
    );
  });
});
