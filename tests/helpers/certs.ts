// Test certificates made with openssl: valid, about to expire, and long expired.
async function sh(script: string, cwd: string) {
  const o = await new Deno.Command("bash", { args: ["-c", script], cwd, stdout: "null", stderr: "piped" })
    .output();
  if (!o.success) throw new Error(new TextDecoder().decode(o.stderr));
}

/** a fresh self-signed cert valid for `days`, and one that expired in 2020 (openssl ca sets any dates) */
export async function makeCerts(dir: string) {
  await sh(
    `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ok.key -out ok.crt -subj /CN=ok -days 365
     openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout soon.key -out soon.crt -subj /CN=soon -days 3
     touch index.txt; echo 01 > serial
     printf '[ca]\\ndefault_ca=d\\n[d]\\ndatabase=index.txt\\nserial=serial\\nnew_certs_dir=.\\ndefault_md=sha256\\npolicy=p\\n[p]\\ncommonName=supplied\\n' > ca.cnf
     openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout old.key -out old.csr -subj /CN=old
     openssl ca -config ca.cnf -selfsign -keyfile old.key -in old.csr -out old.crt -startdate 20200101000000Z -enddate 20200102000000Z -batch`,
    dir,
  );
  const read = (f: string) => Deno.readTextFileSync(`${dir}/${f}`);
  return {
    ok: { cert: read("ok.crt"), key: read("ok.key") },
    soon: { cert: read("soon.crt"), key: read("soon.key") },
    old: { cert: read("old.crt"), key: read("old.key") },
  };
}
