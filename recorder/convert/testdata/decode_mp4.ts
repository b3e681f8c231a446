// Tests: every frame of an MP4 as packed RGB (rgb24), in presentation order and without frame-rate
// conversion, decoded by the ffmpeg binary. Throws with ffmpeg's message when it fails.
export async function decodeRgb24Frames(mp4: string): Promise<Uint8Array> {
  const args = ["-v", "error", "-i", mp4, "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24"];
  const out = await new Deno.Command("ffmpeg", {
    args: [...args, "pipe:1"],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (!out.success) {
    throw new Error(`ffmpeg could not decode ${mp4}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return out.stdout;
}
