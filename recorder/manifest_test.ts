import assert from "node:assert/strict";
import { MANIFEST_FORMAT, ManifestError, manifestText, parseManifest } from "./manifest.ts";

const m = {
  recording_id: "12",
  session_id: "7f3c-aa",
  kind: "asciicast",
  channel: "0",
  file: "7f3c-aa-1.cast",
  size: 1234,
  sha256: "ab".repeat(32),
  started_at: "2026-12-05T02:00:00.000Z",
  ended_at: "2026-12-05T02:05:00.000Z",
  node: "node-a",
  sealed_at: "2026-12-05T02:05:01.000Z",
};

Deno.test("manifest: fixed key order, two-space JSON, newline at the end; parses back", () => {
  const text = manifestText({ ...m, node: m.node, kind: m.kind }); // order of the argument does not matter
  const shuffled = manifestText(Object.fromEntries(Object.entries(m).reverse()) as typeof m);
  assert.equal(text, shuffled);
  assert.ok(text.startsWith(`{\n  "format": "${MANIFEST_FORMAT}",\n  "recording_id": "12",`));
  assert.ok(text.endsWith("}\n"));
  // the line VERIFY.md's sed reads the hash from
  assert.match(text, new RegExp(`^  "sha256": "${"ab".repeat(32)}",$`, "m"));
  assert.deepEqual(parseManifest(text), { format: MANIFEST_FORMAT, ...m });
});

Deno.test("manifest: anything but a v1 manifest is refused with ManifestError", () => {
  for (
    const bad of [
      "not json",
      "{}",
      JSON.stringify({ ...m, format: "other" }),
      manifestText({ ...m, sha256: "xyz" }),
      manifestText({ ...m, size: -1 }),
      manifestText({ ...m, size: 1.5 }),
    ]
  ) assert.throws(() => parseManifest(bad), ManifestError, bad);
});
