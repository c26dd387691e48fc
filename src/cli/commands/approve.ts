import type { Command } from "commander";
import { loadConfig } from "../../app/config/load.js";
import { SealgateError } from "../../core/errors.js";
import { signApproval, verifyApproval } from "../../crypto/sign/approval.js";
import type { CliIO } from "../io.js";
import {
  addSignerOptions,
  configTrust,
  personalSigner,
  type SignerOptions,
  signPackage,
} from "../personal-signer.js";

interface Options extends SignerOptions {
  config: string;
  model: string;
  version: string;
  role: string;
  decision: "approve" | "reject" | "request-changes";
  comment?: string;
  condition?: string[];
  json?: boolean;
}

export function registerApprove(program: Command, io: CliIO): void {
  const cmd = program
    .command("approve")
    .description(
      "sign your decision on a version's review package with your certificate, and record it in MLflow",
    )
    .requiredOption("--config <file>", "sealgate config (mlflow, store.path, trust)")
    .requiredOption("--model <name>", "registered model name")
    .requiredOption("--version <n>", "model version")
    .requiredOption("--role <role>", "the role you act in, as the policy names it")
    .requiredOption("--decision <decision>", "approve, reject or request-changes")
    .option("--comment <text>", "your comment, sealed with the decision")
    .option("--condition <text...>", "conditions on the approval (scope, expiry, re-review)")
    .option("--json", "print the assertion and the tag written");
  addSignerOptions(cmd)
    .addHelpText(
      "after",
      `
You sign the review package digest that 'sealgate review' recorded on the version; your identity
is your certificate (subject and email), never a typed name.

Example:
  $ sealgate approve --config sealgate.yaml --model credit-risk --version 3 \\
      --role model-risk --decision approve --comment "Deltas within band" \\
      --p12 ~/li-lei.p12 --passphrase '\${SEALGATE_P12_PASS}'`,
    )
    .action(async (opts: Options) => {
      if (!["approve", "reject", "request-changes"].includes(opts.decision)) {
        throw new SealgateError(
          "USAGE",
          `--decision ${opts.decision}: use approve, reject or request-changes`,
        );
      }
      const config = await loadConfig(opts.config);
      if (!config.store || !config.trust) {
        throw new SealgateError(
          "CONFIG_INVALID",
          `config ${opts.config}: approve needs store.path and trust.anchors`,
        );
      }
      // An approver with an expired, revoked or untrusted certificate learns it before anything is written.
      const trust = await configTrust(config, opts.config);
      const signer = await personalSigner(opts, trust, io);
      const { packageDigest, jws, verified, tag } = await signPackage({
        config,
        configPath: opts.config,
        io,
        model: opts.model,
        version: opts.version,
        sign: (packageDigest) =>
          signApproval(
            {
              type: "sealgate.approval/1",
              model: opts.model,
              version: opts.version,
              packageDigest,
              role: opts.role,
              decision: opts.decision,
              comment: opts.comment ?? "",
              conditions: opts.condition ?? [],
              signedAt: new Date().toISOString(),
            },
            signer,
          ),
        // Refuse to publish an assertion that would not verify: wrong key usage, untrusted chain, expired.
        verify: (jws) => verifyApproval(jws, trust),
      });
      if (opts.json)
        return void io.out(
          `${JSON.stringify({ tag: tag.key, byReference: tag.value !== jws, identity: verified.identity, assertion: verified.assertion }, null, 2)}\n`,
        );
      io.out(
        `${opts.decision} by ${verified.identity.email} as ${opts.role} on ${opts.model} v${opts.version}\n`,
      );
      io.out(
        `  package ${packageDigest}\n  recorded as MLflow tag ${tag.key}${tag.value !== jws ? ` (by reference: ${tag.value})` : ""}\n`,
      );
    });
}
