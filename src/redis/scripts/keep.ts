/** BullMQ's keepJobs as the scripts read it: keep count (-1 any), keep age (s) or '', limit. */
export type KeepArgs = readonly [count: number, age: number | '', limit: number];
