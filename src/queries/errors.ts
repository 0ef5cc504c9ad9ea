/** A bad request from the user (flags, specs): one line, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}
