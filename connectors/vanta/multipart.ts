import { randomBytes } from "node:crypto";

/*
 * multipart/form-data (RFC 7578) built in memory: evidence files are small (records, JWS,
 * PDFs), and a single buffer lets the one HTTP client send, time out and retry it unchanged.
 */

export interface FilePart {
  field: string;
  fileName: string;
  mediaType: string;
  bytes: Uint8Array;
}

export function multipartBody(
  fields: Record<string, string>,
  file: FilePart,
): { body: Uint8Array; contentType: string } {
  const boundary = `sealgate-${randomBytes(12).toString("hex")}`;
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="${quote(name)}"\r\n\r\n`));
    parts.push(Buffer.from(value, "utf8"), Buffer.from("\r\n"));
  }
  parts.push(
    Buffer.from(
      `--${boundary}\r\ncontent-disposition: form-data; name="${quote(file.field)}"; filename="${quote(file.fileName)}"\r\n` +
        `content-type: ${file.mediaType.replace(/[\r\n]/g, "")}\r\n\r\n`,
    ),
    Buffer.from(file.bytes),
    Buffer.from(`\r\n--${boundary}--\r\n`),
  );
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** RFC 7578 4.2: quotes, CR and LF in names are percent-encoded the way browsers do it. */
function quote(s: string): string {
  return s.replace(/"/g, "%22").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}
