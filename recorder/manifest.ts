// The manifest that seals a closed recording (pure): what the file is (SHA-256 and size of its bytes as
// stored on disk, whatever the format or encryption), whose it is and when. Its exact UTF-8 bytes are what
// the appliance key signs, so it is written once, in a fixed key order, with a newline at the end.
export const MANIFEST_FORMAT = "jumphost-recording-manifest-v1";
/** The SSHSIG namespace of recording manifests (ssh-keygen -Y verify -n). */
export const MANIFEST_NAMESPACE = "jumphost-recording";

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  recording_id: string;
  session_id: string;
  kind: string;
  channel: string | null;
  /** the file's name (the directory may move: exports, restores) */
  file: string;
  size: number;
  sha256: string;
  started_at: string;
  ended_at: string | null;
  node: string;
  sealed_at: string;
}

export function manifestText(m: Omit<Manifest, "format">): string {
  const ordered: Manifest = {
    format: MANIFEST_FORMAT,
    recording_id: m.recording_id,
    session_id: m.session_id,
    kind: m.kind,
    channel: m.channel,
    file: m.file,
    size: m.size,
    sha256: m.sha256,
    started_at: m.started_at,
    ended_at: m.ended_at,
    node: m.node,
    sealed_at: m.sealed_at,
  };
  return JSON.stringify(ordered, null, 2) + "\n";
}

export class ManifestError extends Error {
  override name = "ManifestError";
}

/** Parses a manifest; throws ManifestError on anything but a version-1 manifest. */
export function parseManifest(text: string): Manifest {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ManifestError(`not JSON: ${(e as Error).message}`);
  }
  const m = v as Partial<Manifest>;
  if (!m || typeof m !== "object" || m.format !== MANIFEST_FORMAT) {
    throw new ManifestError("not a v1 manifest");
  }
  if (typeof m.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(m.sha256)) throw new ManifestError("bad sha256");
  if (typeof m.size !== "number" || !Number.isSafeInteger(m.size) || m.size < 0) {
    throw new ManifestError("bad size");
  }
  if (typeof m.file !== "string" || typeof m.recording_id !== "string") throw new ManifestError("bad file");
  return m as Manifest;
}
