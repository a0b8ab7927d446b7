// `ark schedule get` and `ark schedule describe`.
import { Console, DateTime, Effect, Option } from "effect"

import type { OutputFormat } from "../render.ts"
import { renderDocument } from "../render.ts"
import { getSchedule, listSchedules, scheduleBackups } from "./kube.ts"
import { describeSchedule, scheduleTable } from "./view.ts"

export interface GetArgs {
  readonly name: Option.Option<string>
  readonly namespace: string
  readonly output: OutputFormat
  /** Keep `metadata.managedFields` in JSON and YAML (default: left out). */
  readonly showManagedFields?: boolean
}

export const getSchedules = Effect.fn("Cli.scheduleGet")(function*(args: GetArgs) {
  const found = yield* Option.match(args.name, {
    onNone: () => listSchedules(args.namespace),
    onSome: (name) => Effect.map(getSchedule(name, args.namespace), (schedule) => [schedule])
  })
  if (args.output !== "table") {
    return yield* Console.log(renderDocument(
      args.output,
      found.map(({ raw }) => raw),
      Option.isSome(args.name),
      args.showManagedFields === true
    ))
  }
  if (found.length === 0) return yield* Console.log(`No schedules found in namespace ${args.namespace}.`)
  yield* Console.log(scheduleTable(found.map(({ decoded }) => decoded), yield* DateTime.now))
})

export interface DescribeArgs {
  readonly name: string
  readonly namespace: string
}

export const describeScheduleCommand = Effect.fn("Cli.scheduleDescribe")(function*(args: DescribeArgs) {
  const { decoded: schedule } = yield* getSchedule(args.name, args.namespace)
  const backups = yield* scheduleBackups(args.name, args.namespace)
  yield* Console.log(describeSchedule(schedule, yield* DateTime.now, backups))
})
