/**
 * The build's name for `evx --version` and `evx doctor`: `evx 0.1.0 (1f8d952)`.
 *
 * scripts/build.mjs embeds the package version and the git commit it was built from (with `-dirty`
 * when tracked files had uncommitted changes) as `__EVX_VERSION__` / `__EVX_COMMIT__`. Unbundled
 * (tsx, from source) there is no build: the version comes from package.json and the commit is `dev`.
 */
import { readFileSync } from "node:fs";

declare const __EVX_VERSION__: string;
declare const __EVX_COMMIT__: string;

export function buildVersion(): { version: string; commit: string | null } {
  if (typeof __EVX_VERSION__ === "string")
    return { version: __EVX_VERSION__, commit: typeof __EVX_COMMIT__ === "string" ? __EVX_COMMIT__ : null };
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return { version: pkg.version, commit: "dev" };
}

/** `evx 0.1.0 (1f8d952)`, or `evx 0.1.0` for a build made outside a git clone. */
export function versionLine(): string {
  const { version, commit } = buildVersion();
  return `evx ${version}${commit ? ` (${commit})` : ""}`;
}
