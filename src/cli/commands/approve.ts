import { resolve } from "node:path";
import type { Command } from "commander";
import { loadConfig } from "../../app/config/load.js";
import { readStore } from "../../app/store.js";
import { SealgateError } from "../../core/errors.js";
import { signApproval, type VerifiedApproval, verifyApproval } from "../../crypto/sign/approval.js";
import { checkCandidate, checkPackage, nextNeeded } from "../../governance/approvals/refusal.js";
import { type VersionStatus, versionStatus } from "../../governance/approvals/status.js";
import { loadPolicy } from "../../policy/schema.js";
import { personOf } from "../../policy/person.js";
import type { SourceVersion } from "../../source/registry-source.js";
import type { Digest } from "../../core/digest.js";
import { shownReviewPdf } from "../../governance/approvals/review-pdf.js";
import type { CliIO } from "../io.js";
import {
  addSignerOptions,
  checkSignerNow,
  configTrust,
  loadPersonalSigner,
  type SignerOptions,
  describeRecorded,
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
  package?: string;
  json?: boolean;
}

export function registerApprove(program: Command, io: CliIO): void {
  const cmd = program
    .command("approve")
    .description(
      "sign your decision on a version's review package with your certificate, append it to the ledger at once, and mirror it as an MLflow tag",
    )
    .requiredOption("--config <file>", "sealgate config (mlflow, store.path, trust)")
    .requiredOption("--model <name>", "registered model name")
    .requiredOption("--version <n>", "model version")
    .requiredOption("--role <role>", "the role you act in, as the policy names it")
    .requiredOption("--decision <decision>", "approve, reject or request-changes")
    .option("--comment <text>", "your comment, sealed with the decision")
    .option("--condition <text...>", "conditions on the approval (scope, expiry, re-review)")
    .option(
      "--package <digest>",
      "the package digest you reviewed: refused if the version's package has changed since",
    )
    .option("--json", "print the assertion and the tag written");
  addSignerOptions(cmd)
    .addHelpText(
      "after",
      `
You sign the review package digest that 'sealgate review' recorded on the version; your identity
is your certificate (subject and email), never a typed name. The decision becomes a ledger event
at once, signed with the same certificate: appended directly when the ledger is free, else
handed to the running daemon (daemon.listen, daemon.http.accessToken). Its order in the ledger,
not the time your clock claims, is its order in the chain; a claimed time further than
events.maxClockSkew from sealgate's clock is refused (exit 1, nothing recorded).

Refused at once (exit 1, nothing recorded, the reason and the role the chain needs next): a role
you have no authority for, a role out of sequence, a second role by the same person (whatever
certificate), approving a model you own or registered, a --package that is no longer the
version's package, a certificate that is expired, revoked or untrusted now, or a cycle that has
already ended.

Example:
  $ sealgate approve --config sealgate.yaml --model credit-risk --version 3 \\
      --role model-risk --decision approve --comment "Deltas within band" \\
      --p12 ~/li-lei.p12 --passphrase '\${SEALGATE_P12_PASS}'`,
    )
    .action((opts: Options) => approve(opts, io));
}

/** Sign, check against the policy (refusing at once what would not count), then record. */
async function approve(opts: Options, io: CliIO): Promise<void> {
  if (!["approve", "reject", "request-changes"].includes(opts.decision)) {
    throw new SealgateError("USAGE", `--decision ${opts.decision}: use approve, reject or request-changes`);
  }
  const config = await loadConfig(opts.config);
  if (!config.store || !config.trust || !config.policy) {
    throw new SealgateError(
      "CONFIG_INVALID",
      `config ${opts.config}: approve needs store.path, trust.anchors and policy`,
    );
  }
  const trust = await configTrust(config, opts.config);
  const { policy } = await loadPolicy(resolve(opts.config, "..", config.policy));
  const signer = await loadPersonalSigner(opts, io);
  const now = new Date();
  let status: VersionStatus | null = null;
  let version: SourceVersion | undefined;
  let reviewPdf: Digest | undefined;
  let actor: string | undefined;
  const kind = { approve: "approval", reject: "rejection", "request-changes": "request-changes" } as const;
  const { packageDigest, jws, verified, tag, event } = await signPackage<VerifiedApproval>({
    config,
    configPath: opts.config,
    io,
    model: opts.model,
    version: opts.version,
    // Everything the policy would not count is refused here, before anything is written.
    before: async (mv, store) => {
      version = mv;
      reviewPdf = await shownReviewPdf(store, mv);
      // The ledger as it stands (no lock taken): a ledger-judged cycle is checked as the sealer will.
      const { ledger } = readStore(resolve(opts.config, "..", config.store!.path));
      status = await versionStatus({ store, trust, policy, ledger }, mv, now);
      if (!status) return;
      checkPackage(status, opts.package);
      await checkSignerNow(signer, trust).catch((err: unknown) => {
        throw withNext(err, status!);
      });
    },
    check: (v) => {
      if (status && version) checkCandidate(status, v, policy, version, now);
      const who = personOf(policy, v.identity);
      actor = who.ok ? who.person : v.identity.email;
    },
    // The decision is a ledger event at once, signed with the same certificate, wrapping the assertion.
    event: {
      signer,
      trust,
      actor: () => actor,
      of: ({ packageDigest, statement }) => ({
        kind: kind[opts.decision],
        package: packageDigest,
        role: opts.role,
        assertion: statement,
      }),
    },
    sign: (packageDigest) =>
      signApproval(
        {
          type: "sealgate.approval/1",
          model: opts.model,
          version: opts.version,
          packageDigest,
          ...(reviewPdf ? { reviewPdf } : {}),
          role: opts.role,
          decision: opts.decision,
          comment: opts.comment ?? "",
          conditions: opts.condition ?? [],
          signedAt: now.toISOString(),
        },
        signer,
      ),
    verify: (jws) => verifyApproval(jws, trust),
  });
  if (opts.json)
    return void io.out(
      `${JSON.stringify({ tag: tag.key, byReference: tag.value !== jws, identity: verified.identity, assertion: verified.assertion, event: event ? { digest: event.digest, ...event.recorded } : null }, null, 2)}\n`,
    );
  io.out(
    `${opts.decision} by ${verified.identity.email} as ${opts.role} on ${opts.model} v${opts.version}\n`,
  );
  if (reviewPdf) io.out(`  review PDF ${reviewPdf} (signed: the document you were shown)\n`);
  io.out(
    `  package ${packageDigest}\n  recorded as MLflow tag ${tag.key}${tag.value !== jws ? ` (by reference: ${tag.value})` : ""}\n`,
  );
  if (event) io.out(`  ${describeRecorded(event)}\n`);
}

/** A certificate refusal, with the role the chain needs next added to its message. */
function withNext(err: unknown, status: VersionStatus): unknown {
  if (!(err instanceof SealgateError)) return err;
  return new SealgateError(err.code, `refused, nothing recorded: ${err.message}; ${nextNeeded(status)}`, {
    cause: err,
  });
}
