import { readFileSync } from "node:fs";

// The SDK warns on Node 20 about future versions; that warning is noise in a terminal tool.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import yargs, { type Argv } from "yargs";
import { hideBin } from "yargs/helpers";
import { EXIT, errorLine, exitCodeFor } from "./commands/errors.js";
import { runRejects, runStatus } from "./commands/status.js";
import { runSync } from "./commands/sync.js";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  version: string;
};

const cacheOpt = {
  cache: { type: "string", describe: "cache file (default: $EVX_CACHE, else the last one used)" },
} as const;
const outOpts = {
  json: { type: "boolean", describe: "print JSON for scripts" },
  csv: { type: "boolean", describe: "print CSV" },
} as const;

export function buildCli(argv: string[]): Argv {
  return yargs(argv)
    .scriptName("evx")
    .usage(
      "$0 <command> [options]\n\nProduct analytics over an S3 JSON-lines event lake, from a local DuckDB cache.",
    )
    .command(
      "sync <source>",
      "mirror date partitions from s3://bucket/prefix or a folder into the cache",
      (y) =>
        y
          .positional("source", {
            type: "string",
            demandOption: true,
            describe: "s3://bucket/prefix or a local folder",
          })
          .options({
            from: { type: "string", describe: "first partition date, YYYY-MM-DD (inclusive)" },
            to: { type: "string", describe: "last partition date, YYYY-MM-DD (inclusive)" },
            cache: {
              type: "string",
              describe: "cache file (default: $EVX_CACHE, else ~/.cache/evx/<source>.duckdb)",
            },
            json: { type: "boolean", describe: "print one JSON summary instead of progress" },
            endpoint: { type: "string", describe: "S3-compatible endpoint URL (MinIO, R2, localstack)" },
            region: { type: "string", describe: "AWS region (default: from profile/env, else us-east-1)" },
            profile: { type: "string", describe: "AWS profile from ~/.aws/config (SSO works)" },
            "sign-request": {
              type: "boolean",
              default: true,
              describe: "use --no-sign-request for public buckets",
            },
            concurrency: { type: "number", describe: "parallel downloads (default 16 for S3)" },
            layout: {
              type: "string",
              describe: "partition layout: hive[:KEY] | KEY= | hive-ymd | ymd | date (default: detect)",
            },
            map: {
              type: "string",
              describe:
                "rename fields: event_type=event,event_time=timestamp,user_id=distinct_id,event_properties=properties",
            },
          })
          .example("$0 sync s3://acme-events/raw --from 2023-06-01 --to 2023-06-07", "sync one week")
          .example(
            "$0 sync s3://acme-events/raw --profile analytics --region eu-west-1",
            "use an AWS profile",
          )
          .example("$0 sync s3://lake/events --endpoint http://localhost:9000", "an S3-compatible server")
          .example(
            "$0 sync ./lake --map event_type=event,user_id=distinct_id --json",
            "a folder with Segment-style fields",
          ),
      async (a) => {
        await runSync({ ...a, source: a.source as string, signRequest: a["sign-request"] });
      },
    )
    .command(
      "status",
      "show what the cache holds, per partition",
      (y) => y.options({ ...cacheOpt, ...outOpts }).example("$0 status --json", "machine-readable summary"),
      (a) => runStatus(a),
    )
    .command(
      "rejects",
      "list rejected lines: object, line number, reason and the raw line (cut to 1 KB)",
      (y) =>
        y
          .options({
            ...cacheOpt,
            ...outOpts,
            limit: { type: "number", default: 50, describe: "how many to list" },
          })
          .example("$0 rejects --limit 10", "the first ten rejected lines"),
      (a) => runRejects(a),
    )
    .version(pkg.version)
    .alias("h", "help")
    .alias("v", "version")
    .strict()
    .demandCommand(1, "name a command (see --help)")
    .recommendCommands()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err, y) => {
      if (err) throw err;
      process.stderr.write(`evx: ${msg}\n(see \`evx ${""}--help\`)\n`);
      void y;
      process.exit(EXIT.usage);
    });
}

export async function main(argv = hideBin(process.argv)): Promise<void> {
  try {
    await buildCli(argv).parseAsync();
  } catch (e) {
    const code = exitCodeFor(e);
    if (e instanceof Error && e.name !== "ExitError" && !(e.constructor.name === "ExitError"))
      process.stderr.write(`${errorLine(e)}\n`);
    if (process.env.EVX_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    process.exitCode = code;
  }
}

await main();
