/**
 * One typed function per MLP endpoint the lab calls (`{base_url}mlp/api/...`), so views
 * never spell URLs or guess body shapes. All of them throw `APIError`.
 */
import { requestAPI, sendAPI } from '../ui/request';
import {
  IComputeItem,
  IDaskStartRequest,
  IEnvironmentInfo,
  IRun,
  ISchedule,
  ScheduleRequest,
  ScheduleUpdate
} from './types';

const id = (value: string) => encodeURIComponent(value);

/** `GET info`: user, profile, hardware, versions, service reachability. */
export function getInfo(): Promise<IEnvironmentInfo> {
  return requestAPI<IEnvironmentInfo>('info');
}

/** The Compute section's calls. */
export const compute = {
  /** `GET compute`: the user's clusters and jobs. */
  list: () => requestAPI<{ items: IComputeItem[] }>('compute'),
  /** `POST compute/dask`: start a Dask cluster. */
  startDask: (body: IDaskStartRequest) =>
    sendAPI<IComputeItem>('compute/dask', 'POST', body),
  /** `POST compute/<id>/stop`: stop a cluster or cancel a job. */
  stop: (jobId: string) =>
    sendAPI<IComputeItem>(`compute/${id(jobId)}/stop`, 'POST')
};

/** The Pipelines section's calls (proxied to the MLP service). */
export const pipelines = {
  /** `GET pipelines/schedules`. */
  schedules: () =>
    requestAPI<{ schedules: ISchedule[] }>('pipelines/schedules'),
  /** `GET pipelines/runs?limit=`: newest first. */
  runs: (limit: number) =>
    requestAPI<{ runs: IRun[] }>(`pipelines/runs?limit=${limit}`),
  /** `GET pipelines/runs/<id>`: with nodes and edges for pipeline runs. */
  run: (runId: string) => requestAPI<IRun>(`pipelines/runs/${id(runId)}`),
  /** `POST pipelines/runs/<id>/cancel`. */
  cancelRun: (runId: string) =>
    sendAPI<IRun>(`pipelines/runs/${id(runId)}/cancel`, 'POST'),
  /** `POST pipelines/schedules`. */
  createSchedule: (body: ScheduleRequest) =>
    sendAPI<ISchedule>('pipelines/schedules', 'POST', body),
  /** `PATCH pipelines/schedules/<id>`. */
  updateSchedule: (scheduleId: string, body: ScheduleUpdate) =>
    sendAPI<ISchedule>(`pipelines/schedules/${id(scheduleId)}`, 'PATCH', body),
  /** `DELETE pipelines/schedules/<id>`. */
  deleteSchedule: (scheduleId: string) =>
    sendAPI<void>(`pipelines/schedules/${id(scheduleId)}`, 'DELETE'),
  /** `POST pipelines/schedules/<id>/run`: run the target now. */
  runSchedule: (scheduleId: string) =>
    sendAPI<IRun>(`pipelines/schedules/${id(scheduleId)}/run`, 'POST')
};
