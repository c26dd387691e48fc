// The mapping the delivery-engine tests use with the file-backed destination.
import { z } from "zod";

export const TEST_TARGET = z.strictObject({ folder: z.string().min(1) });

export const TEST_MAPPING = {
  target: { folder: "grc" },
  fields: {
    short_description: "Model {{record.model.name}} v{{record.model.version}}",
    correlation_id: "{{digest}}",
    decision: "{{record.decision}}",
    approvals: "{{record.approvals.0.identity.email}}",
    source: { static: "sealgate" },
  },
  attachments: ["evidence.json", "record.pdf", "record.p7s"],
};
