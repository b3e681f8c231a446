// Filesystem helpers that turn "not there" into null instead of an exception.
export async function realPath(p: string): Promise<string | null> {
  try {
    return await Deno.realPath(p);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}
