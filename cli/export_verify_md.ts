// VERIFY.md of an export bundle (pure): how an auditor checks the bundle with ssh-keygen, openssl and
// sha256sum alone. tests/tamper_e2e_test.ts runs these very commands.

/** The shell commands of VERIFY.md, in order, to run from the bundle's directory (bash). */
export const VERIFY_COMMANDS = {
  bundle: [
    "ssh-keygen -Y verify -f allowed_signers -I jumphost -n jumphost-export -s SHA256SUMS.sig < SHA256SUMS",
    "openssl pkeyutl -verify -pubin -inkey signing_key.pub.pem -rawin -in SHA256SUMS -sigfile SHA256SUMS.ed25519",
    "sha256sum -c SHA256SUMS",
  ],
  recordings: [
    `for m in recordings/*.manifest; do
  ssh-keygen -Y verify -f allowed_signers -I jumphost -n jumphost-recording -s "$m.sig" < "$m" || exit 1
  echo "$(sed -n 's/^  "sha256": "\\([0-9a-f]*\\)",$/\\1/p' "$m")  \${m%.manifest}" | sha256sum -c - || exit 1
done`,
  ],
  audit: [
    "(cd audit && sha256sum -c CHAIN.sha256)",
    `(cd audit && prev= && while read -r h f; do
  if [ -n "$prev" ] && [ "$(sed -n 's/^prev //p' "$f")" != "$prev" ]; then echo "BROKEN LINK: $f"; exit 1; fi
  prev=$h
done < CHAIN.sha256 && echo "links: OK")`,
    "openssl pkeyutl -verify -pubin -inkey signing_key.pub.pem -rawin -in audit/checkpoint.txt " +
    "-sigfile audit/checkpoint.txt.ed25519",
    `[ "$(sed -n 's/^last_hash //p' audit/checkpoint.txt)" = "$(tail -n 1 audit/CHAIN.sha256 | cut -d' ' -f1)" ] \\
  && echo "the chain ends at the signed checkpoint"`,
  ],
};

export function verifyMd(o: {
  sessionId: string;
  exportedAt: Date;
  node: string;
  fingerprint: string;
  recordings: { file: string; sealed: boolean }[];
  sessionRows: string[];
  segment: { from: string; to: string } | null;
}): string {
  const block = (cmds: string[]) => "```sh\n" + cmds.join("\n") + "\n```";
  const unsealed = o.recordings.filter((r) => !r.sealed).map((r) => r.file);
  return `# Verifying this export

Session \`${o.sessionId}\`, exported ${o.exportedAt.toISOString()} by node \`${o.node}\`.
Signing key: \`${o.fingerprint}\` (\`signing_key.pub\`, \`signing_key.pub.pem\`). Compare this fingerprint
with the one the appliance's operator publishes (\`jumphost audit public-key | ssh-keygen -lf -\`): the
checks below prove the files were signed by that key, not that the key is the appliance's.

Everything here is checked with OpenSSH's \`ssh-keygen\`, \`openssl\` and \`sha256sum\`; no jumphost code.
Run the commands from this directory with bash; each must succeed (exit status 0).

## 1. The bundle is what the appliance exported

\`SHA256SUMS\` lists every file of the bundle with its SHA-256; it is signed (SSHSIG, namespace
\`jumphost-export\`, and a raw Ed25519 signature for openssl).

${block(VERIFY_COMMANDS.bundle)}

## 2. Each recording is the file sealed when it closed

\`recordings/<file>.manifest\` was signed by the appliance when the recording closed (namespace
\`jumphost-recording\`); it holds the file's SHA-256 and size as stored on disk, the recording and session
ids, start and end times and the node. The manifest's hash must match the file. A recording whose name
ends in \`.age\` is encrypted at rest: the hash covers the encrypted file, so it verifies without a key;
read it with \`age -d -i YOUR-IDENTITY-FILE recordings/F.age\` if your key is one of its recipients. (With openssl instead of
ssh-keygen, for a recording sealed by this node: \`openssl pkeyutl -verify -pubin -inkey signing_key.pub.pem
-rawin -in recordings/F.manifest -sigfile recordings/F.manifest.ed25519\`; \`allowed_signers\` also lists the
other nodes' keys.)

${block(VERIFY_COMMANDS.recordings)}

${
    unsealed.length
      ? `Not sealed (no manifest: the recording did not close normally, or was made before sealing existed):
${unsealed.map((f) => `- \`${f}\``).join("\n")}
`
      : "Every recording of the session is sealed."
  }

## 3. The session's audit rows are in the signed hash chain

\`audit/rows/<id>.txt\` is the canonical encoding of audit row \`<id>\` (its SHA-256 is the row's chain
hash; the \`prev\` line is the hash of the row before it). \`audit/CHAIN.sha256\` lists the rows ${
    o.segment ? `${o.segment.from} to ${o.segment.to}` : "(none)"
  }, every row of the chain from the session's first row up to a checkpoint, in chain order, so the links
can be followed; \`audit/checkpoint.txt\` is the signed checkpoint at the last of them. The session's own
rows are listed in \`audit/SESSION_ROWS\` (${o.sessionRows.length} row(s)); \`audit/rows.jsonl\` shows
every row readably.

${block(VERIFY_COMMANDS.audit)}

A row's encoding, one line per field: \`jumphost-audit-v1\`, then \`id\`, \`at\` (UTC, microseconds),
\`event_id\`, \`actor\`, \`action\`, \`target\`, \`source_ip\`, \`success\`, \`details\` (the JSON as PostgreSQL
prints jsonb), \`node_id\`, \`prev\`. Text fields are \`<UTF-8 byte length>:<text>\`, or \`-\` for none.
`;
}
