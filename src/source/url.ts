/**
 * What a SOURCE argument names, before anything is opened: `s3://bucket/prefix`, or a local folder.
 * Text that looks like a mistyped S3 URL (`s3:/bucket/x`, `s3:bucket`, `s3//bucket`, `s3a://bucket`) is
 * a usage error with the right spelling: taken as a folder it would sync nothing, or the wrong thing
 * (issue #22). Pure, so every command that takes a SOURCE checks it the same way.
 */
import { UsageError } from "../queries/errors.js";

/** Shows user input in a message without the `user:pass@` of a URL. */
const shown = (url: string) => JSON.stringify(url.replace(/\/\/[^/?#\s]*@/g, "//***@"));

export function sourceKind(url: string): "s3" | "folder" {
  const s = url.trim();
  if (/^s3:\/\/[^/]/i.test(s)) return "s3";
  // `s3:` without its two slashes, with three, `s3//…` without the colon, and Hadoop's s3a:/s3n:.
  const mangled = /^(?:s3[an]?:\/*|s3\/\/+)(.*)$/i.exec(s);
  if (mangled) {
    const rest = mangled[1].replace(/^\/+/, "");
    throw new UsageError(
      rest
        ? `bad source ${shown(url)}: not an S3 URL; did you mean ${shown(`s3://${rest}`)}?`
        : `bad source ${shown(url)}: name the bucket, e.g. s3://bucket/prefix`,
    );
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s))
    throw new UsageError(`unsupported source ${shown(url)}: use s3://bucket/prefix or a folder`);
  return "folder";
}
