// The process and Node runtime metrics of /metrics, read from Node when a scrape asks. The names
// are prom-client's default metrics, so Node dashboards work as they are, minus its gauges named
// `*_total` (active handles, requests, resources), its per-space heap figures and GC histogram.
// prom-client itself is not used: it and its default collectors add ~21 MiB of RSS to a bare Node
// process, while these left the server's idle RSS within run-to-run noise (README, "Metrics").
import { readdirSync, readFileSync } from "node:fs"
import type { IntervalHistogram } from "node:perf_hooks"
import { monitorEventLoopDelay, performance } from "node:perf_hooks"

import type { Scope } from "effect"
import { Effect } from "effect"

import type { Label, MetricFamily } from "./prometheus.ts"
import { simpleFamily } from "./prometheus.ts"

const gauge = (name: string, help: string, value: number, labels: ReadonlyArray<Label> = []) =>
  simpleFamily(name, "gauge", help, [[labels, value]])
const counter = (name: string, help: string, value: number) => simpleFamily(name, "counter", help, [[[], value]])

/** A field of /proc/self/status in bytes (`VmSize:  123 kB`); undefined off Linux. */
const procStatusBytes = (status: string | undefined, field: string) => {
  const match = status === undefined ? null : new RegExp(`^${field}:\\s*(\\d+) kB$`, "m").exec(status)
  return match === null ? undefined : Number(match[1]) * 1024
}

const readOrUndefined = <A>(read: () => A): A | undefined => {
  try {
    return read()
  } catch {
    return undefined
  }
}

/** Linux's /proc: virtual memory and file descriptors; nothing elsewhere. */
const procFamilies = (): ReadonlyArray<MetricFamily> => {
  const status = readOrUndefined(() => readFileSync("/proc/self/status", "utf8"))
  const virtual = procStatusBytes(status, "VmSize")
  const openFds = readOrUndefined(() => readdirSync("/proc/self/fd").length)
  const limits = readOrUndefined(() => readFileSync("/proc/self/limits", "utf8"))
  const maxFds = limits === undefined ? undefined : /^Max open files\s+(\d+)/m.exec(limits)?.[1]
  return [
    ...(virtual === undefined ? [] : [gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", virtual)]),
    ...(openFds === undefined ? [] : [gauge("process_open_fds", "Number of open file descriptors.", openFds)]),
    ...(maxFds === undefined
      ? []
      : [gauge("process_max_fds", "Maximum number of open file descriptors.", Number(maxFds))])
  ]
}

/** Event-loop delay since the previous scrape, in seconds (prom-client resets it the same way). */
const delayFamilies = (delay: IntervalHistogram): ReadonlyArray<MetricFamily> => {
  const seconds = (nanoseconds: number) => (delay.count === 0 ? 0 : nanoseconds / 1e9)
  const families = [
    gauge("nodejs_eventloop_lag_min_seconds", "The minimum recorded event loop delay.", seconds(delay.min)),
    gauge("nodejs_eventloop_lag_max_seconds", "The maximum recorded event loop delay.", seconds(delay.max)),
    gauge("nodejs_eventloop_lag_mean_seconds", "The mean of the recorded event loop delays.", seconds(delay.mean)),
    gauge(
      "nodejs_eventloop_lag_stddev_seconds",
      "The standard deviation of the recorded event loop delays.",
      seconds(delay.stddev)
    ),
    gauge(
      "nodejs_eventloop_lag_p50_seconds",
      "The 50th percentile of the recorded event loop delays.",
      seconds(delay.percentile(50))
    ),
    gauge(
      "nodejs_eventloop_lag_p90_seconds",
      "The 90th percentile of the recorded event loop delays.",
      seconds(delay.percentile(90))
    ),
    gauge(
      "nodejs_eventloop_lag_p99_seconds",
      "The 99th percentile of the recorded event loop delays.",
      seconds(delay.percentile(99))
    )
  ]
  delay.reset()
  return families
}

/** How long a callback queued now waits for the event loop, as prom-client's `nodejs_eventloop_lag_seconds`. */
const eventLoopLag = Effect.async<number>((resume) => {
  const start = performance.now()
  setImmediate(() => resume(Effect.succeed((performance.now() - start) / 1000)))
})

const activeResources = (): MetricFamily => {
  const counts = new Map<string, number>()
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1)
  return simpleFamily(
    "nodejs_active_resources",
    "gauge",
    "Number of active resources that are currently keeping the event loop alive, grouped by async resource type.",
    [...counts].map(([type, count]): readonly [ReadonlyArray<Label>, number] => [[["type", type]], count])
  )
}

const versionInfo = (): MetricFamily => {
  const [major = "", minor = "", patch = ""] = process.versions.node.split(".")
  return gauge("nodejs_version_info", "Node.js version info.", 1, [
    ["version", process.version],
    ["major", major],
    ["minor", minor],
    ["patch", patch]
  ])
}

/** Everything but the event loop, read now. */
const processFamilies = (): ReadonlyArray<MetricFamily> => {
  const cpu = process.cpuUsage()
  const memory = process.memoryUsage()
  return [
    counter("process_cpu_user_seconds_total", "Total user CPU time spent in seconds.", cpu.user / 1e6),
    counter("process_cpu_system_seconds_total", "Total system CPU time spent in seconds.", cpu.system / 1e6),
    counter(
      "process_cpu_seconds_total",
      "Total user and system CPU time spent in seconds.",
      (cpu.user + cpu.system) / 1e6
    ),
    gauge(
      "process_start_time_seconds",
      "Start time of the process since unix epoch in seconds.",
      Math.round(performance.timeOrigin / 1000)
    ),
    gauge("process_resident_memory_bytes", "Resident memory size in bytes.", memory.rss),
    ...procFamilies(),
    gauge("nodejs_heap_size_total_bytes", "Process heap size from Node.js in bytes.", memory.heapTotal),
    gauge("nodejs_heap_size_used_bytes", "Process heap size used from Node.js in bytes.", memory.heapUsed),
    gauge("nodejs_external_memory_bytes", "Node.js external memory size in bytes.", memory.external),
    gauge(
      "nodejs_array_buffers_bytes",
      "Memory allocated for ArrayBuffers and SharedArrayBuffers, included in external memory, in bytes.",
      memory.arrayBuffers
    ),
    activeResources(),
    versionInfo()
  ]
}

/**
 * Watches the event loop for as long as the scope lives; returns the scrape-time reading of every
 * process and runtime family.
 */
export const runtimeMetrics: Effect.Effect<Effect.Effect<ReadonlyArray<MetricFamily>>, never, Scope.Scope> = Effect
  .gen(function*() {
    const delay = yield* Effect.acquireRelease(
      Effect.sync(() => {
        // 10 ms, prom-client's default: finer sampling costs CPU for no dashboard's benefit.
        const histogram = monitorEventLoopDelay({ resolution: 10 })
        histogram.enable()
        return histogram
      }),
      (histogram) => Effect.sync(() => histogram.disable())
    )
    return Effect.map(eventLoopLag, (lag) => [
      ...processFamilies(),
      gauge("nodejs_eventloop_lag_seconds", "Lag of event loop in seconds.", lag),
      ...delayFamilies(delay)
    ])
  })
