// RDP session recordings: versioned file format, streaming writer and streaming reader.
// See rdp_file_format.ts for the byte layout and the meaning of each record type.

export {
  decodeChannelData,
  decodeMeta,
  decodeScreenResize,
  encodeChannelData,
  encodeMeta,
  encodeScreenResize,
  FORMAT_VERSION,
  type GccBlock,
  MAX_RECORD_BYTES,
  RecordingFormatError,
  type RecordingFormatErrorCode,
  type RecordingHeader,
  RecordType,
  type ScreenSize,
} from "./rdp_file_format.ts";
export {
  createRecordingWriter,
  openRecordingWriter,
  type RecordingSink,
  RecordingWriteError,
  type RecordingWriteErrorCode,
  type RecordingWriter,
  type RecordingWriterOptions,
  type RecordingWriterStats,
} from "./rdp_file_writer.ts";
export {
  openRecording,
  type ReadOptions,
  readRecording,
  type RecordingReader,
  type RecordingRecord,
} from "./rdp_file_reader.ts";
