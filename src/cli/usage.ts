/** The help texts of `atomic-queues` and of each of its commands. */

const CONNECTION = `Connection (every command):
  --redis URL     redis:// or rediss:// URL (default: $REDIS_URL, else redis://127.0.0.1:6379)
  --prefix P      key prefix of the engine (its keyPrefix option; default "aq")
  --cluster       connect to a Redis Cluster (detected from INFO cluster when not given)
  --timeout MS    give up connecting after this long (default 5000)
  --json          print one JSON document instead of tables
  -h, --help      this help`;

export const MAIN_USAGE = `Usage: atomic-queues <command> [arguments] [options]

Look at and act on the entities of an atomic-queues deployment, from any machine that reaches
its Redis. The CLI starts a producer-only engine (it runs no job) and uses its admin calls.

Commands:
  entities [--type T] [--limit N] [--cursor C]   entities: state, pod, backlog, oldest wait
  inspect TYPE ID                                one entity: lease, fencing token, failed jobs
  failed [TYPE]                                  entities that keep failed jobs
  retry TYPE ID (JOBID... | --all)               put failed jobs back at the head of the queue
  pause TYPE ID                                  stop running the entity's jobs after the current one
  resume TYPE ID                                 run them again
  drain TYPE ID [--delayed]                      remove the waiting (and delayed) jobs
  pods                                           the pod registry: held entities, last beat

${CONNECTION}

Exit status: 0 done; 1 the command failed; 2 wrong usage, Redis unreachable, or no
atomic-queues data under the prefix. "atomic-queues <command> --help" for one command.`;

export const COMMAND_USAGE: Record<string, string> = {
  entities: `Usage: atomic-queues entities [--type T] [--limit N] [--cursor C] [options]

Lists the entities the cluster knows of: held by a pod, waiting for one, paused, or idle
(keeping finished jobs), with the holder, the backlog (waiting + active + delayed), the failed
count and how long the next waiting job has waited.

Paging: the entities are read with ZSCAN (the sweep index, then the rest set), about --limit
(default 100, at most 1000) per page, so Redis is never blocked whatever their number. Each page
is sorted by backlog, largest first: sorting is within a page, not across pages. When more
remain, the output ends with the cursor of the next page (JSON: "cursor", null after the last);
pass it with --cursor. Every entity present throughout the paging is listed.

  --type T      only entities of type T
  --limit N     entities per page, 1 to 1000 (default 100)
  --cursor C    the page after the one that returned C

${CONNECTION}`,
  inspect: `Usage: atomic-queues inspect TYPE ID [--limit N] [options]

One entity: its BullMQ queue, state, lease holder and time left, last fencing token, backlog,
pause, and its failed jobs (oldest failure first, --limit of them, default 20).

${CONNECTION}`,
  failed: `Usage: atomic-queues failed [TYPE] [--limit N] [options]

Entities that keep failed jobs, earliest first failure first: of TYPE, or of every type that has
some. --limit entities per type (default 100, at most 1000); the total is always shown.

${CONNECTION}`,
  retry: `Usage: atomic-queues retry TYPE ID (JOBID... | --all) [options]

Puts failed jobs of the entity back at the head of its queue (oldest failure first, attempts
anew) and has the entity run them, unless it is paused. Ids that are not failed jobs of the
entity are reported as not found.

  --all         every failed job of the entity

${CONNECTION}`,
  pause: `Usage: atomic-queues pause TYPE ID [options]

Stops running the entity's jobs after the current one; new jobs are still accepted.

${CONNECTION}`,
  resume: `Usage: atomic-queues resume TYPE ID [options]

Resumes a paused entity: its waiting jobs are picked up at once.

${CONNECTION}`,
  drain: `Usage: atomic-queues drain TYPE ID [--delayed] [options]

Removes the entity's waiting jobs (and its delayed ones with --delayed). A running job finishes.

  --delayed     also remove delayed jobs

${CONNECTION}`,
  pods: `Usage: atomic-queues pods [options]

The pod registry: each pod, whether it runs jobs, how many entities it held at its last
heartbeat and how long ago that was (Redis's clock). The CLI's own entry is left out.

${CONNECTION}`,
};
