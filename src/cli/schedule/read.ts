// `ark schedule get` and `ark schedule describe`.
import type { Option } from "effect"
import { Console, DateTime, Effect } from "effect"

import type { OutputFormat } from "../render.ts"
import { renderDocument } from "../render.ts"
import { selectedResources } from "../selection.ts"
import { getSchedule, listSchedules, scheduleBackups } from "./kube.ts"
import { describeSchedule, scheduleTable } from "./view.ts"

export interface GetArgs {
  readonly names: ReadonlyArray<string>
  readonly selector: Option.Option<string>
  readonly namespace: string
  readonly output: OutputFormat
  /** Keep `metadata.managedFields` in JSON and YAML (default: left out). */
  readonly showManagedFields?: boolean
}

export const getSchedules = Effect.fn("Cli.scheduleGet")(function*(args: GetArgs) {
  const found = yield* selectedResources("schedule", args, {
    get: (name) => getSchedule(name, args.namespace),
    list: listSchedules(args.namespace)
  })
  if (args.output !== "table") {
    return yield* Console.log(renderDocument(
      args.output,
      found.map(({ raw }) => raw),
      args.names.length === 1,
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
