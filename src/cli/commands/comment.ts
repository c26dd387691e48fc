import type { Command } from "commander";
import { loadConfig } from "../../app/config/load.js";
import { SealgateError } from "../../core/errors.js";
import { ANNOTATION_TAG_PREFIX } from "../../governance/approvals/approval-tags.js";
import { SECTIONS, signAnnotation, verifyAnnotation } from "../../crypto/sign/annotation.js";
import type { CliIO } from "../io.js";
import {
  addSignerOptions,
  configTrust,
  describeRecorded,
  personalSigner,
  type SignerOptions,
  signPackage,
} from "../personal-signer.js";

interface Options extends SignerOptions {
  config: string;
  model: string;
  version: string;
  section: string;
  text: string;
  clarification?: boolean;
  json?: boolean;
}

export function registerComment(program: Command, io: CliIO): void {
  const cmd = program
    .command("comment")
    .description("sign a comment (or a clarification request) on one section of a version's review package")
    .requiredOption("--config <file>", "sealgate config (mlflow, store.path, trust)")
    .requiredOption("--model <name>", "registered model name")
    .requiredOption("--version <n>", "model version")
    .requiredOption("--section <name>", `the section you comment on: ${SECTIONS.join(", ")}`)
    .requiredOption("--text <text>", "your comment")
    .option("--clarification", "mark it as a request for clarification addressed to the model team")
    .option("--json", "print the signed comment and the tag written");
  addSignerOptions(cmd)
    .addHelpText(
      "after",
      `
Comments are signed with your certificate like approvals, appended to the ledger as events at
once (as approve does), mirrored on the version as MLflow tags (sealgate.comment.*), and sealed
into the record with the decision.

Example:
  $ sealgate comment --config sealgate.yaml --model credit-risk --version 3 \\
      --section dataset --clarification --text "Which months does the eval set cover?" \\
      --key li-lei.key.pem --cert li-lei.cert.pem`,
    )
    .action(async (opts: Options) => {
      if (!(SECTIONS as readonly string[]).includes(opts.section))
        throw new SealgateError("USAGE", `--section ${opts.section}: use one of ${SECTIONS.join(", ")}`);
      const config = await loadConfig(opts.config);
      if (!config.store)
        throw new SealgateError("CONFIG_INVALID", `config ${opts.config}: comment needs store.path`);
      const trust = await configTrust(config, opts.config);
      const signer = await personalSigner(opts, trust, io);
      const { verified, tag, event } = await signPackage({
        config,
        configPath: opts.config,
        io,
        model: opts.model,
        version: opts.version,
        sign: (packageDigest) =>
          signAnnotation(
            {
              type: "sealgate.annotation/1",
              model: opts.model,
              version: opts.version,
              packageDigest,
              section: opts.section as (typeof SECTIONS)[number],
              kind: opts.clarification ? "clarification-request" : "comment",
              text: opts.text,
              signedAt: new Date().toISOString(),
            },
            signer,
          ),
        verify: (jws) => verifyAnnotation(jws, trust),
        tagPrefix: ANNOTATION_TAG_PREFIX,
        // A ledger event at once, signed with the same certificate, naming the stored annotation.
        event: {
          signer,
          trust,
          of: ({ packageDigest, statement }) => ({
            kind: opts.clarification ? "clarification-request" : "comment",
            package: packageDigest,
            annotation: statement,
          }),
        },
      });
      if (opts.json)
        return void io.out(
          `${JSON.stringify({ tag: tag.key, identity: verified.identity, annotation: verified.assertion, event: event ? { digest: event.digest, ...event.recorded } : null }, null, 2)}\n`,
        );
      io.out(
        `${verified.assertion.kind} by ${verified.identity.email} on ${opts.section} of ${opts.model} v${opts.version}\n  recorded as MLflow tag ${tag.key}\n`,
      );
      if (event) io.out(`  ${describeRecorded(event)}\n`);
    });
}
