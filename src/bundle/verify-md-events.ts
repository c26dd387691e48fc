import type { CycleFacts } from "./facts.js";
import { eventFile, objectPath } from "./layout.js";
import { signatureCheck } from "./verify-md-approvals.js";
import { check, epoch, hex, quote } from "./verify-md-shell.js";

/*
 * VERIFY.md's ledger-order step for a ledger-judged cycle: each event object hashes to the name
 * its entry gives it, says what the reader is told it says, is signed by its actor's certificate
 * (valid at the entry's time), and its entry is in the signed checkpoint; then the decisions'
 * entry numbers, read from the entry files, rise in the order of the review chain. The order of
 * the approvers' own clocks does not matter: the sealer judged by ledger order.
 */

type Event = NonNullable<CycleFacts["events"]>[number];
/** VERIFY.md's inclusion-proof walk (verify-md.ts), for an event's entry. */
export type InclusionSteps = (
  c: Pick<CycleFacts, "number" | "proof">,
  w: string,
  at: { entry: string; inclusion: string; what: string },
) => string;

function eventBlock(c: CycleFacts, e: Event, inclusion: InclusionSteps): string {
  const w = `work/c${c.number}-event${e.seq}`;
  const entry = eventFile(c.number, e.seq, "entry.json");
  const what = `the ${e.kind}${e.role ? ` as ${e.role}` : ""} at ledger entry ${e.seq}`;
  const signer = e.purpose
    ? `${signatureCheck({ alg: e.alg, n: `event ${e.seq}` }, w)}
openssl verify -attime ${epoch(e.time)} -purpose ${e.purpose} -CAfile org-root.pem -untrusted ${w}-chain.pem ${w}-signer.pem`
    : `# sealgate's own event: signed with the sealing key
${signatureCheck({ alg: e.alg, n: `event ${e.seq}` }, w)}`;
  return `### Ledger entry ${e.seq}: ${e.kind}${e.role ? ` as ${e.role}` : ""} by ${e.actor}, appended ${e.time}

\`\`\`sh
printf '%s  %s\\n' '${hex(e.object)}' '${objectPath(e.object)}' | sha256sum -c
jws ${objectPath(e.object)} ${w}
printf '%s' ${quote(e.payload)} > ${w}-payload.expected
${check(`same ${w}-payload.json ${w}-payload.expected`, `${what} says what this step shows`)}
${signer}
${check(`[ "$(cut -d , -f 1,2 ${entry})" = '{"kind":"event","object":"${e.object}"' ]`, `entry ${e.seq} names the event`)}
${check(`[ "$(cut -d , -f 4 ${entry})" = '"seq":${e.seq}' ]`, `the event is entry ${e.seq} of the ledger`)}
${inclusion({ number: c.number, proof: e.proof }, w, { entry, inclusion: eventFile(c.number, e.seq, "inclusion.json"), what })}
\`\`\`
`;
}

/** The decisions' entry numbers, read from their entry files, must rise in the record's order. */
function orderCheck(c: CycleFacts, decisions: Event[]): string {
  const files = c.approvals
    .map((a) => decisions.find((e) => e.assertion === a.assertion))
    .map((e) => (e ? eventFile(c.number, e.seq, "entry.json") : "MISSING"));
  const roles = c.approvals.map((a) => a.role).join(", ");
  return `prev=-1; inorder=yes
for f in ${files.join(" ")}; do
  seq=$(cut -d , -f 4 "$f" | cut -d : -f 2)
  [ "$seq" -gt "$prev" ] 2>/dev/null || inorder=no
  prev=$seq
done
${check('[ "$inorder" = yes ]', `the record's approvals (${roles}) are in ledger order`)}`;
}

export function eventsSection(c: CycleFacts, inclusion: InclusionSteps): string {
  const events = c.events;
  if (!events) return "";
  const decisions = events.filter((e) => e.assertion);
  const order = events.map(
    (e) =>
      `- entry ${e.seq} (${e.time}): ${e.kind}${e.role ? ` as ${e.role}` : ""} by ${e.actor}${e.assertion ? `, naming \`${objectPath(e.assertion)}\`` : ""}`,
  );
  return `
**The ledger's order (this cycle was judged from the ledger).** Each person's action was signed
and appended to the ledger as an event when they acted; the sealer walked the review chain
(${c.chain.join(", ")}) over the decisions in ledger order (entry number), each judged at its
entry's time, which is sealgate's clock, not the signer's. The events, in ledger order:

${order.join("\n")}

Each block checks one event: its file hashes to the name its entry gives it, its payload is the
text shown (naming the approval signature of the record, for a decision), it is signed by the
certificate in its header (valid at the entry's time), and its entry (\`records/${c.number}/events/<entry>.entry.json\`)
is in the signed ledger, proved as for the record's entry above.

${events.map((e) => eventBlock(c, e, inclusion)).join("\n")}
The decisions the record counts, in the record's order, must have rising entry numbers:

\`\`\`sh
${orderCheck(c, decisions)}
\`\`\`
`;
}
