// The explain-access form and its verdict with every policy evaluated.
import type { Explanation } from "../../policy/mod.ts";
import { Badge, Csrf, Field, type FormState, utc } from "./parts.tsx";

export function ExplainPage(
  p: { form: FormState; servers: string[]; csrf: string; result?: { ex: Explanation; at: Date } },
) {
  return (
    <>
      <h1>Explain access</h1>
      <p class="muted">
        Runs the same decision as <span class="mono">jumphost access check</span> and the proxies.
      </p>
      <form method="post" action="/access" class="panel" id="explain-form">
        <Csrf token={p.csrf} />
        <Field form={p.form} name="source_ip" label="Source IP" required placeholder="192.0.2.7" />
        <Field
          form={p.form}
          name="server"
          label="Server"
          options={[{ value: "", label: "— choose —" }, ...p.servers.map((s) => ({ value: s, label: s }))]}
        />
        <Field
          form={p.form}
          name="protocol"
          label="Protocol"
          options={[{ value: "ssh", label: "SSH" }, { value: "rdp", label: "RDP" }]}
        />
        <Field form={p.form} name="login" label="Backend login" hint="Optional." />
        <Field
          form={p.form}
          name="user"
          label="User"
          hint="Optional: picks the user when the source IP is shared."
        />
        <Field form={p.form} name="at" label="At (UTC)" placeholder="YYYY-MM-DDTHH:MM, empty = now" />
        <button type="submit" id="explain-submit">Explain</button>
      </form>
      {p.result ? <Verdict ex={p.result.ex} at={p.result.at} /> : null}
    </>
  );
}

function Verdict(p: { ex: Explanation; at: Date }) {
  const d = p.ex.decision;
  return (
    <div class="panel" id="explain-result">
      <h2>
        {d.allowed ? <Badge kind="ok">ALLOW</Badge> : <Badge kind="bad">DENY</Badge>}{" "}
        <span class="muted">at {utc(p.at)} UTC</span>
      </h2>
      {d.allowed
        ? (
          <p>
            {d.userName} → {d.serverName} by policy{" "}
            <a href={`/policies/${d.policyId}`}>#{d.policyId}</a>; logins{" "}
            <span class="mono">{d.logins.join(", ") || "any"}</span>; port forwarding{" "}
            {d.portForwarding ? "yes" : "no"}; until {utc(d.validUntil)} UTC.
          </p>
        )
        : (
          <p>
            <strong class="mono">{d.reason}</strong>: {d.detail}
          </p>
        )}
      {p.ex.evaluations.length
        ? (
          <table id="explain-evaluations">
            <thead>
              <tr>
                <th>Policy</th>
                <th>Verdict</th>
                <th>Why</th>
              </tr>
            </thead>
            <tbody>
              {p.ex.evaluations.map((e) => (
                <tr key={e.policyId}>
                  <td>
                    <a href={`/policies/${e.policyId}`}>#{e.policyId}</a>
                  </td>
                  <td>
                    {e.verdict === "valid"
                      ? <Badge kind="ok">valid</Badge>
                      : <Badge kind="warn">{e.verdict}</Badge>}
                  </td>
                  <td>{e.text}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )
        : null}
    </div>
  );
}
