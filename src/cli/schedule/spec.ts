// `ark schedule create` flags → the Schedule resource it submits. Pure: a bad name, cron or
// backup flag becomes a CliError here, before anything reaches the cluster.
import { Either } from "effect"

import type { BackupSpec, Schedule } from "../../api/index.ts"
import { apiVersion } from "../../api/index.ts"
import { parseSchedule } from "../../schedule/cron.ts"
import { maxScheduleNameLength } from "../../schedule/validate.ts"
import type { BackupFlags, MetadataFlags } from "../backup/spec.ts"
import { backupSpecFromFlags, metadataFromFlags } from "../backup/spec.ts"
import { CliError } from "../errors.ts"

const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

/**
 * A name the API server accepts that also leaves room for its backups' names: a DNS subdomain of at
 * most 238 characters (`<schedule>-<YYYYMMDDhhmmss>` is at most 253).
 */
export const checkScheduleName = (name: string): Either.Either<string, CliError> =>
  name.length <= maxScheduleNameLength && dnsSubdomain.test(name)
    ? Either.right(name)
    : Either.left(
      new CliError({
        message: `invalid schedule name "${name}": use lowercase letters, digits, '-' and '.', ` +
          `starting and ending with a letter or digit (at most ${maxScheduleNameLength} characters)`,
        hint: "for example: ark schedule create nightly --schedule \"0 1 * * *\""
      })
    )

/** The --schedule text as given (trimmed), when the server will accept it. */
export const checkCron = (text: string): Either.Either<string, CliError> =>
  Either.mapBoth(parseSchedule(text), {
    onLeft: (reason) =>
      new CliError({
        message: `invalid --schedule "${text}": ${reason}`,
        hint: "use 5 fields (minute hour day-of-month month day-of-week) such as \"0 */6 * * *\", " +
          "or @hourly, @daily, @weekly, @monthly, @yearly, or \"@every 6h\" (times are UTC)"
      }),
    onRight: () => text.trim()
  })

export interface ScheduleFlags extends BackupFlags, MetadataFlags {
  readonly name: string
  readonly schedule: string
  /** Created paused: no backup until `ark schedule unpause`. */
  readonly paused: boolean
  /** Velero's skipImmediately: no backup at creation (or unpause), the first at the next cron time. */
  readonly skipImmediately: boolean
}

/**
 * The Schedule `ark schedule create` submits: the cron and the backup template of the flags, and
 * `--labels`/`--annotations` on the Schedule itself, which its backups inherit (as Velero's do).
 */
export const scheduleFromFlags = (flags: ScheduleFlags, namespace: string): Either.Either<Schedule, CliError> =>
  Either.gen(function*() {
    const name = yield* checkScheduleName(flags.name)
    const schedule = yield* checkCron(flags.schedule)
    const template: BackupSpec = yield* backupSpecFromFlags(flags)
    const { annotations, labels } = yield* metadataFromFlags(flags)
    return {
      apiVersion,
      kind: "Schedule" as const,
      metadata: {
        name,
        namespace,
        ...(Object.keys(labels).length > 0 ? { labels } : {}),
        ...(Object.keys(annotations).length > 0 ? { annotations } : {})
      },
      spec: {
        schedule,
        template,
        ...(flags.paused ? { paused: true } : {}),
        ...(flags.skipImmediately ? { skipImmediately: true } : {})
      }
    }
  })
