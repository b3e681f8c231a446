// The files of one scp/SFTP channel kept as they pass, where the server's group asks for it
// (db/file_keeping.ts): a writer per file (recorder/file_store.ts), the relay's backpressure while the disk is
// behind, and each file's outcome added to its transfer.
import type { RecordingEncryption } from "../../core/recording_identity.ts";
import { KeptFileWriter } from "../../recorder/file_store.ts";
import type { ContentSink, OpenContent, Transfer } from "./transfer_tap.ts";

export class ChannelFileKeeper {
  #writers = new Set<KeptFileWriter>();

  constructor(
    private readonly recordingsDir: string,
    private readonly capBytes: number,
    /** a copy cannot be written: the session's on_recording_failure decides (ProxySession.recordingFailed) */
    private readonly onError: (e: Error) => void,
    /** recording_encryption = age: the copies are encrypted too */
    private readonly encryption: RecordingEncryption | null = null,
  ) {}

  readonly open: OpenContent = (_t, declaredSize) => {
    const w = new KeptFileWriter(this.recordingsDir, this.capBytes, declaredSize, this.encryption);
    w.onError = this.onError;
    this.#writers.add(w);
    return w;
  };

  /** A file ended (whole with its hash, or not): its transfer with what became of the kept copy. */
  async finish(t: Transfer, sink: ContentSink | null | undefined): Promise<Transfer> {
    if (!(sink instanceof KeptFileWriter) || !this.#writers.has(sink)) return t;
    this.#writers.delete(sink);
    return { ...t, ...await sink.finish(t.sha256) };
  }

  /** The relay waits while a kept file's writer is behind (null: it need not). */
  gate(): Promise<void> | null {
    for (const w of this.#writers) if (w.full) return w.drained();
    return null;
  }
}
