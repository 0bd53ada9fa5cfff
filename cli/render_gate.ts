import type { ApprovalGate } from "../proto/gen/swamp/v1/run_pb.ts";
import type { Output } from "./output.ts";
import { when } from "./time_text.ts";

// How an approval gate looks to people, under its step in `status` and in
// `approvals`.

/** Who may decide, and until when. */
export function gateTerms(gate: ApprovalGate): string {
  const who = gate.approvers.length > 0 ? gate.approvers.join(", ") : "anyone";
  const except = gate.forbidRunActor ? " (not the run's starter)" : "";
  const until = gate.expiresTime
    ? `; expires ${when(gate.expiresTime)}, then ${
      gate.onTimeout === "approve" ? "approved" : "rejected"
    }`
    : "; never expires";
  return `${who}${except}${until}`;
}

export function gateLines(out: Output, gate: ApprovalGate, indent: string): string[] {
  const lines = [`${indent}${out.dim("prompt")}    ${gate.prompt}`];
  const decision = gate.decision;
  if (decision) {
    const verdict = decision.approved ? out.green("approved") : out.red("rejected");
    lines.push(
      `${indent}${out.dim("decided")}   ${verdict} by ${decision.actor} at ${when(decision.time)}${
        decision.reason ? `: ${decision.reason}` : ""
      }`,
    );
  } else {
    lines.push(`${indent}${out.dim("who")}       ${gateTerms(gate)}`);
  }
  return lines;
}
