/**
 * Presets: how the export of a well-known collector maps onto evx's four fields, which of its
 * messages are not events, which field identifies an event (for dedupe) and how its objects are laid
 * out. A preset is stored with the cache (meta `format`) and `--map` / `--dedupe` refine it.
 *
 * Paths are dotted (`properties.time`); `a|b` means "a, else b" (the first that is present and
 * non-empty). Fields used for identity and time are removed from the properties object when they
 * live inside it (see `droppedKeys`).
 */
import type { Layout } from "../source/layout.js";
import type { FieldMap } from "./mapping.js";

export const PRESET_NAMES = ["segment", "amplitude", "mixpanel", "posthog"] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

export interface Preset {
  name: PresetName;
  map: FieldMap;
  /**
   * The event id used for dedupe, as the vendor dedupes: a path, or paths joined by `+` for an id made
   * of several fields (an event lacking any of them has no id and is kept).
   */
  id: string;
  /** Ids earlier versions of evx deduped this preset on; a cache stored with one is read again. */
  formerIds?: string[];
  /**
   * Messages that are not events: when `field` holds one of `skip`, the line is counted as skipped
   * (not rejected); `rename` names the event of some kinds (its `event_type` path is used otherwise).
   */
  kind?: { field: string; skip: string[]; rename: Record<string, string> };
  /** The vendor's object layout; undefined = detect from the keys like any lake. */
  layout?: Layout;
  /** Layouts detection may also pick for this vendor (they read file names, which plain lakes never do). */
  detect?: Layout[];
  /** A sample line of the format (README, `--help`, tests). */
  sample: string;
}

export const PRESETS: Record<PresetName, Preset> = {
  // Segment's S3 destination writes the full calls (track/page/screen/identify/group/alias) as
  // gzipped JSON lines under `segment-logs/<source-id>/<received-day in epoch ms>/<file>.gz`:
  // https://segment.com/docs/connections/storage/catalog/aws-s3/#data-format
  // Message fields (userId, anonymousId, messageId, timestamp, properties):
  // https://segment.com/docs/connections/spec/common/
  // page and screen calls land in the `pages` and `screens` tables of Segment's warehouse schema,
  // and are named so here: https://segment.com/docs/connections/storage/warehouses/schema/
  segment: {
    name: "segment",
    map: {
      event_type: "event",
      event_time: "timestamp",
      user_id: "userId|anonymousId",
      event_properties: "properties",
    },
    id: "messageId",
    kind: {
      field: "type",
      skip: ["identify", "group", "alias"],
      rename: { page: "pages", screen: "screens" },
    },
    layout: { name: "epoch-ms" },
    sample:
      '{"type":"track","event":"Order Completed","userId":null,"anonymousId":"a-1f3","messageId":"ajs-7c1b","timestamp":"2023-06-01T16:12:14.721Z","properties":{"revenue":12.5}}',
  },
  // Amplitude's Export API and S3 export: gzipped JSON lines, one file per project and hour named
  // `<project>_<YYYY-MM-DD>_<hour>#<n>.json.gz`; `event_time` is UTC without an offset
  // (`2023-06-01 16:12:14.721000`); the event's insert id is the column `$insert_id` ("Response
  // schema"), and `uuid` is Amplitude's own id of each ingested row, so a re-ingested event has a new
  // `uuid` and is no id for dedupe:
  // https://amplitude.com/docs/apis/analytics/export
  // https://amplitude.com/docs/data/destination-catalog/amazon-s3
  // Amplitude dedupes on the insert id per device: "Amplitude ignores subsequent events with the same
  // insert_id on the same device_id within the seven-day deduplication window", so the id is
  // `device_id` + `$insert_id` (a row without an insert id is never a duplicate):
  // https://amplitude.com/docs/data/data-assistant-user-solutions/event-identifiers-engineering
  // https://amplitude.com/docs/get-started/track-your-progress
  // (evx dedupes over the whole cache, not within seven days: a re-delivered export line is a duplicate
  // whenever it comes.)
  // `$identify` / `$groupidentify` rows only update user and group properties, so they are skipped.
  amplitude: {
    name: "amplitude",
    map: {
      event_type: "event_type",
      event_time: "event_time",
      user_id: "user_id|device_id",
      event_properties: "event_properties",
    },
    id: "device_id+$insert_id",
    formerIds: ["insert_id|uuid"],
    kind: { field: "event_type", skip: ["$identify", "$groupidentify"], rename: {} },
    layout: { name: "amplitude" },
    sample:
      '{"event_type":"song_played","event_time":"2023-06-01 16:12:14.721000","user_id":null,"device_id":"d-9a2","$insert_id":"5f1c","uuid":"0b6e…","event_properties":{"genre":"jazz"}}',
  },
  // Mixpanel's raw export has `event` and a `properties` object holding `time` (epoch seconds;
  // milliseconds in the import format), `distinct_id` and `$insert_id`:
  // https://developer.mixpanel.com/reference/raw-event-export
  // https://developer.mixpanel.com/reference/import-events
  // Its JSON pipelines write `event_name`, `time`, `distinct_id`, `insert_id` at the top level beside
  // `properties`: https://docs.mixpanel.com/docs/data-pipelines/json-pipelines
  // Both are read (a fallback per field); the layout is detected from the keys (date folders).
  // Mixpanel dedupes on four fields: "If all four of these properties [event, distinct_id, time,
  // $insert_id] are identical across two or more events, Mixpanel considers them duplicates"; an event
  // without `$insert_id` is never deduplicated:
  // https://docs.mixpanel.com/reference/event-deduplication
  // https://docs.mixpanel.com/troubleshooting/errors/duplicate-events
  mixpanel: {
    name: "mixpanel",
    map: {
      event_type: "event|event_name",
      event_time: "properties.time|time",
      user_id: "properties.distinct_id|distinct_id",
      event_properties: "properties",
    },
    id: "event|event_name+properties.distinct_id|distinct_id+properties.time|time+properties.$insert_id|insert_id",
    formerIds: ["properties.$insert_id|insert_id"],
    sample:
      '{"event":"Signup","properties":{"time":1685635934,"distinct_id":"u-91","$insert_id":"29fc2962","Referred by":"Friend"}}',
  },
  // PostHog's S3 batch export (JSON lines or Parquet; Parquet `properties` is a JSON string):
  // uuid, event, distinct_id, person_id, properties, timestamp. Keys follow a templated prefix and are
  // named `<data_interval_start>-<data_interval_end>[-<file number>].<parquet|jsonl>[.<gz|sz|br|zst|lz4>]`
  // (`get_s3_key`), with a `<start>-<end>_manifest.json` beside split files (not data, ignored); JSON
  // lines are compressed whole (gzip, brotli), Parquet in its pages (zstd, lz4, snappy, gzip, brotli):
  // https://posthog.com/docs/data-pipelines/batch-exports/s3
  // https://github.com/PostHog/posthog/blob/master/products/batch_exports/backend/temporal/destinations/s3_batch_export.py
  posthog: {
    name: "posthog",
    map: {
      event_type: "event",
      event_time: "timestamp",
      user_id: "person_id|distinct_id",
      event_properties: "properties",
    },
    id: "uuid",
    detect: [{ name: "file-date" }],
    sample:
      '{"uuid":"0188a6c2-…","event":"$pageview","distinct_id":"d-4","person_id":"0188a6c2-p","timestamp":"2023-06-01T16:12:14.721000+00:00","properties":{"$current_url":"/pricing"}}',
  },
};

export function isPresetName(s: string): s is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(s);
}

export function unknownPresetMessage(s: string): string {
  return `unknown --preset '${s}': use one of ${PRESET_NAMES.join(", ")}`;
}
