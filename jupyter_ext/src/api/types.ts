/**
 * Request and response types of the MLP REST calls the lab makes.
 *
 * Request bodies proxied to the MLP service come from `openapi.ts`, generated from
 * `docs/openapi.json` (`jlpm openapi`; `jlpm openapi:check`, run by `jlpm test`, fails when
 * the document changed and the file was not regenerated). Responses the document does
 * not describe yet, and the server extension's own endpoints (`info`, `compute`, `stats`),
 * are written here by hand: when the document gains a response schema, alias it here
 * (`export type IRun = components['schemas']['...']`) and the compiler shows what drifted.
 */
import type { components } from './openapi';

/** `POST pipelines/schedules`: the service's `ScheduleRequest`. */
export type ScheduleRequest = components['schemas']['ScheduleRequest'];

/** `PATCH pipelines/schedules/<id>`: the service's `ScheduleUpdate`. */
export type ScheduleUpdate = components['schemas']['ScheduleUpdate'];

/** The JSON body of a refused request, as the service documents it. */
export type ErrorBody = NonNullable<
  components['responses']['Error']['content']
>['application/json'];

/**
 * The JSON that `GET /mlp/api/info` returns (see `mlp.info.collect_info`).
 */
export interface IEnvironmentInfo {
  user: string;
  profile: { slug: string; display_name: string };
  cpu: { count: number; usable: number; limit: number | null };
  memory: { total_bytes: number; limit_bytes: number | null };
  gpus: { name: string; memory_mib: number }[];
  versions: Record<string, string | null>;
  service?: {
    reachable: boolean;
    url: string | null;
    error?: string | null;
  } | null;
}

/**
 * One cluster or job, as `GET /mlp/api/compute` lists it (see `mlp.compute.jobs`).
 */
export interface IComputeItem {
  id: string;
  kind: string;
  name: string;
  backend: string;
  status: string;
  started: number;
  duration_s: number;
  workers: number | null;
  dashboard: string | null;
  address: string | null;
}

/**
 * `POST /mlp/api/compute/dask`: the form's values, as text (the server parses them).
 */
export interface IDaskStartRequest {
  workers?: string;
  threads?: string;
  memory?: string;
  name?: string;
}

/**
 * A schedule, as the MLP service returns it (`Schedule.to_dict`).
 */
export interface ISchedule {
  id: string;
  owner: string;
  name: string;
  target: string;
  cron: string | null;
  interval_seconds: number | null;
  timezone: string;
  paused: boolean;
  next_fire: string | null;
}

/**
 * A run (`Run.to_dict`); pipeline runs fetched alone also carry nodes and edges.
 */
export interface IRun {
  id: string;
  owner: string;
  kind: string;
  node: string | null;
  target: string;
  status: string;
  reason: string | null;
  error: string | null;
  started: string | null;
  finished: string | null;
  duration: number | null;
  output_path: string | null;
  progress: { done: number | null; total: number | null };
  schedule_id: string | null;
  nodes?: IRun[];
  edges?: [string, string][];
}
