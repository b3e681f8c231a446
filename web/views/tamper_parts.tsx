// The verified state of the audit chain (audit page) and of a recording's seal (session page).
import type { ChainState } from "../tamper_state.ts";
import type { RecordingVerdict } from "../../recorder/seal.ts";
import { Time } from "./parts.tsx";

export function ChainStatus(p: { state: ChainState }) {
  if ("error" in p.state) {
    return (
      <div class="panel" id="chain-state" data-state="unknown">
        Audit chain: <span class="badge warn">not verified</span> {p.state.error}
      </div>
    );
  }
  const r = p.state.report;
  const cp = r.checkpoints.latest;
  const first = r.problems[0];
  return (
    <div class="panel" id="chain-state" data-state={r.ok ? "verified" : "broken"}>
      Audit chain: {r.ok
        ? <span class="badge ok">verified</span>
        : <span class="badge bad">broken at row {first.rowId}</span>} {r.rows} rows
      {cp
        ? (
          <>
            , latest signed checkpoint at row {cp.lastId} (<Time at={cp.at} />)
          </>
        )
        : ", no signed checkpoint yet"}
      ; checked <Time at={p.state.checkedAt} />.
      {r.ok ? null : (
        <ul id="chain-problems">
          {r.problems.slice(0, 10).map((x, i) => <li key={i}>{x.message}</li>)}
          {r.problems.length > 10 ? <li>… {r.problems.length - 10} more (jumphost audit verify)</li> : null}
        </ul>
      )}
    </div>
  );
}

export function SealStatus(p: { verdict: RecordingVerdict | { error: string } | undefined }) {
  const v = p.verdict;
  if (!v) return <span>—</span>;
  if ("error" in v) return <span class="badge warn" title={v.error}>not verified</span>;
  if (v.state === "verified") return <span class="badge ok seal-state">verified</span>;
  if (v.state === "unsealed") {
    return <span class="badge warn seal-state" title={v.problems.join("; ")}>unsealed</span>;
  }
  return (
    <span class="seal-state">
      <span class="badge bad">broken</span> {v.problems.join("; ")}
    </span>
  );
}
