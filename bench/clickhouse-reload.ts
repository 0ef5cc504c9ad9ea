/**
 * `npx tsx bench/clickhouse-reload.ts [--days D] [--runs R]` (issue #25: "a no-change re-run takes under
 * 1 s plus the listing"). Build first (`npm run build`): it runs `evx clickhouse load` as a user does.
 *
 * A lake of D days (default 60) with an object per 15 minutes (96 a day, as the case that started evx
 * has) on the loopback S3 server, loaded once into chdb behind the HTTP adapter; then R (default 5)
 * re-runs with nothing changed. It reports the medians of the whole re-run, of its listing (evx's own S3
 * LIST requests, which grow with the objects and are the store's cost, not ClickHouse's), and of the rest
 * (the bound: under 1 s), with the requests the rest sent. A no-change re-run's cost is per object
 * and partition, not per event, so the lake holds few events per object. Not a test: CI does not run it.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureLake } from "../src/source/synthetic.js";
import { startChHttp } from "../test/helpers/chhttp.js";
import { evxRun } from "../test/helpers/cli.js";
import { startS3Server, uploadDir } from "../test/helpers/s3server.js";

const args = process.argv.slice(2);
const arg = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const days = Number(arg("days") ?? 60);
const runs = Number(arg("runs") ?? 5);
const log = (s: string) => process.stderr.write(`${s}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const env = { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER", AWS_REGION: "us-east-1" };

async function main() {
  const dir = join(tmpdir(), "evx-bench-chreload", `lake-${days}`);
  // 40 events per 15-minute slot on average: (nearly) every slot of every day has its object.
  const lake = await ensureLake({ dir, events: days * 96 * 40, days, gzipShare: 0 });
  log(`evx ClickHouse no-change re-load: ${days} days, ${lake.files} objects, ${runs} runs`);
  const s3 = await startS3Server();
  const srv = await startChHttp();
  try {
    await s3.createBucket("lake");
    await uploadDir(s3, "lake", dir, "raw/");
    const url = `${srv.url}/analytics`;
    const load = [
      "clickhouse",
      "load",
      "s3://lake/raw",
      "--endpoint",
      s3.endpoint,
      "--ch-url",
      url,
      "--json",
    ];
    const schema = await evxRun(["clickhouse", "schema", "--apply", "--ch-url", url], env, 600_000);
    if (schema.code !== 0) throw new Error(schema.stderr);
    const first = await evxRun(load, env, 3_600_000);
    if (first.code !== 0) throw new Error(first.stderr);
    log(`  first load: ${JSON.parse(first.stdout).seconds} s`);
    const whole: number[] = [];
    const listing: number[] = [];
    const rest: number[] = [];
    let requests = 0;
    for (let i = 0; i < runs; i++) {
      const mark = srv.log.length;
      const r = await evxRun(load, env, 600_000);
      if (r.code !== 0) throw new Error(r.stderr);
      const s = JSON.parse(r.stdout) as {
        seconds: number;
        listing_seconds: number;
        partitions: { loaded: number };
      };
      if (s.partitions.loaded !== 0)
        throw new Error(`a no-change re-run loaded ${s.partitions.loaded} partitions`);
      whole.push(s.seconds);
      listing.push(s.listing_seconds);
      rest.push(s.seconds - s.listing_seconds);
      requests = srv.log.length - mark;
      if (process.env.EVX_DEBUG_LOG)
        for (const q of srv.log.slice(mark))
          log(`    ${Math.round(q.ms ?? 0)} ms ${q.sql.slice(0, 100).replace(/\s+/g, " ")}`);
    }
    const out = {
      days,
      objects: lake.files,
      runs,
      seconds: median(whole),
      listing_seconds: median(listing),
      besides_listing_seconds: +median(rest).toFixed(3),
      requests_besides_listing: requests,
    };
    log(
      `  re-run: ${out.seconds} s, listing ${out.listing_seconds} s, besides the listing ${out.besides_listing_seconds} s (${requests} requests to ClickHouse; budget 1 s)`,
    );
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    await srv.stop();
    await s3.stop();
  }
}

main().catch((e) => {
  log(String(e?.stack ?? e));
  process.exit(1);
});
