// The server's HTTP endpoint over real loopback HTTP: health, readiness before and after the signal,
// the metrics page (valid exposition, the process and Node runtime metrics moving, a held event loop
// seen, none of Effect's own) and its content type, 404 elsewhere, and --metrics-address parsing.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Layer, Logger, Metric, Option, RuntimeFlags } from "effect"

import { httpLayer, parseMetricsAddress } from "../../src/server/http.ts"
import * as Readiness from "../../src/server/readiness.ts"
import { parseExposition, valueOf } from "../support/exposition.ts"
import { waitFor } from "../support/wait.ts"

/** What the JSON logger printed, line by line. */
const captureJsonLogs = Effect.sync(() => {
  const lines: Array<string> = []
  const logger = Logger.map(Logger.jsonLogger, (line) => {
    lines.push(line)
  })
  return { lines, layer: Logger.replace(Logger.defaultLogger, logger) }
})

const get = (url: string) =>
  Effect.tryPromise(async () => {
    const response = await fetch(url)
    return { status: response.status, contentType: response.headers.get("content-type"), body: await response.text() }
  })

/** Serves on any free loopback port; returns the base URL read from the "serving metrics" log line. */
const serve = Effect.gen(function*() {
  const logs = yield* captureJsonLogs
  yield* Layer.build(httpLayer("127.0.0.1:0").pipe(Layer.provide(logs.layer)))
  const address = yield* waitFor(
    "the serving metrics log line",
    Effect.sync(() =>
      Option.fromNullable(
        logs.lines
          .map((line) => JSON.parse(line) as { message?: unknown; annotations?: { address?: unknown } })
          .find((entry) => entry.message === "serving metrics")?.annotations?.address
      )
    ),
    "30 seconds"
  )
  assert.match(String(address), /^127\.0\.0\.1:[1-9][0-9]*$/)
  return `http://${String(address)}`
})

describe("server HTTP endpoint", () => {
  it.scopedLive("serves /healthz, /readyz (503 until ready, then 200), /metrics, and 404 elsewhere", () =>
    Effect.gen(function*() {
      const base = yield* serve

      const health = yield* get(`${base}/healthz`)
      assert.strictEqual(health.status, 200)
      assert.strictEqual(health.body, "ok")

      assert.strictEqual((yield* get(`${base}/readyz`)).status, 503)
      yield* Readiness.markReady
      const ready = yield* get(`${base}/readyz`)
      assert.strictEqual(ready.status, 200)
      assert.strictEqual(ready.body, "ok")

      yield* Metric.increment(Metric.tagged(Metric.counter("ark_test_http_requests_total"), "case", "served"))
      const metrics = yield* get(`${base}/metrics`)
      assert.strictEqual(metrics.status, 200)
      assert.strictEqual(metrics.contentType, "text/plain; version=0.0.4; charset=utf-8")
      assert.include(
        metrics.body,
        "# TYPE ark_test_http_requests_total counter\nark_test_http_requests_total{case=\"served\"} 1\n"
      )
      // Families exist before any backup or restore runs.
      assert.include(metrics.body, "ark_backup_failure_total{schedule=\"\"} ")
      assert.include(metrics.body, "ark_restore_duration_seconds_count{schedule=\"\"} ")
      assert.include(metrics.body, "# TYPE ark_backup_in_progress gauge\n")

      assert.strictEqual((yield* get(`${base}/nothing-here`)).status, 404)
      assert.strictEqual((yield* get(`${base}/`)).status, 404)
    }).pipe(Effect.provide(Readiness.layer)))

  it.scopedLive(
    "/metrics is a valid page with the process and Node runtime metrics, CPU moving, and no effect_fiber_*",
    () =>
      Effect.gen(function*() {
        const base = yield* serve
        // Effect's fiber metrics exist in the process once runtime metrics are on for some fibers.
        yield* Effect.fork(Effect.void).pipe(Effect.provide(RuntimeFlags.enableRuntimeMetrics))
        const effects = (yield* Metric.snapshot).filter((pair) => pair.metricKey.name.startsWith("effect_fiber_"))
        assert.isAbove(effects.length, 0)

        const scrape = get(`${base}/metrics`).pipe(Effect.map((response) => parseExposition(response.body)))
        const first = yield* scrape
        assert.notInclude([...first.keys()].join(" "), "effect_")
        const gauge = (name: string) => {
          assert.strictEqual(first.get(name)?.type, "gauge", name)
          return valueOf(first, name) ?? Number.NaN
        }
        const cpu = (page: typeof first) => valueOf(page, "process_cpu_seconds_total") ?? Number.NaN
        assert.strictEqual(first.get("process_cpu_seconds_total")?.type, "counter")
        assert.closeTo(
          cpu(first),
          (valueOf(first, "process_cpu_user_seconds_total") ?? 0) +
            (valueOf(first, "process_cpu_system_seconds_total") ?? 0),
          1e-6
        )
        // The same process, read a moment apart.
        const rss = gauge("process_resident_memory_bytes")
        assert.isAbove(rss, process.memoryUsage.rss() / 2)
        assert.isBelow(rss, process.memoryUsage.rss() * 2)
        const now = Date.now() / 1000
        assert.isAtMost(gauge("process_start_time_seconds"), now + 1)
        assert.isAtLeast(gauge("process_start_time_seconds"), now - process.uptime() - 5)
        assert.isAtMost(gauge("nodejs_heap_size_used_bytes"), gauge("nodejs_heap_size_total_bytes"))
        assert.isAbove(gauge("nodejs_external_memory_bytes"), 0)
        assert.isAtLeast(gauge("nodejs_eventloop_lag_seconds"), 0)
        assert.isAtLeast(gauge("nodejs_eventloop_lag_p99_seconds"), gauge("nodejs_eventloop_lag_p50_seconds"))
        assert.isAbove(gauge("process_open_fds"), 0)
        assert.isAtMost(gauge("process_open_fds"), gauge("process_max_fds"))
        assert.isAbove(gauge("process_virtual_memory_bytes"), rss)
        assert.isAbove(first.get("nodejs_active_resources")?.samples.length ?? 0, 0)
        const [major, minor, patch] = process.versions.node.split(".")
        assert.strictEqual(
          valueOf(
            first,
            "nodejs_version_info",
            { version: process.version, major, minor, patch } as Record<string, string>
          ),
          1
        )

        // Burn 200 ms of CPU: the counter must show it. (Whether the event-loop delay histogram has
        // sampled a hold by the next scrape depends on its timer's phase, so it is not asserted here.)
        const burnt = process.cpuUsage()
        while (process.cpuUsage(burnt).user + process.cpuUsage(burnt).system < 200_000) {
          // busy on purpose
        }
        const second = yield* scrape
        assert.isAtLeast(cpu(second) - cpu(first), 0.2)
      }).pipe(Effect.provide(Readiness.layer))
  )

  it.scopedLive("a held event loop shows in nodejs_eventloop_lag_max_seconds at least as long as the hold", () =>
    Effect.gen(function*() {
      const base = yield* serve
      const lagMax = get(`${base}/metrics`).pipe(
        Effect.map((response) => valueOf(parseExposition(response.body), "nodejs_eventloop_lag_max_seconds") ?? 0)
      )
      // Block this process's only thread for 250 ms, then scrape. The delay histogram records the
      // gap between two of its ticks, at the first tick once the loop is free (libuv runs timers
      // before it reads the scrape). A scrape resets the histogram, and the first tick after a reset
      // (or after it starts) records nothing: a hold with no tick before it is not seen, so hold
      // and scrape again, the 200 ms between polls giving the histogram its ticks.
      const heldThenScraped = Effect.sync(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250)).pipe(
        Effect.zipRight(lagMax)
      )
      const seen = yield* waitFor(
        "a scrape showing a 250 ms hold",
        heldThenScraped.pipe(Effect.map((seconds) => (seconds >= 0.25 ? Option.some(seconds) : Option.none()))),
        "60 seconds"
      )
      assert.isAtLeast(seen, 0.25)
    }).pipe(Effect.provide(Readiness.layer)))

  it.scopedLive("an address already in use fails the layer with a ServeError", () =>
    Effect.gen(function*() {
      const base = yield* serve
      const taken = base.replace("http://", "")
      const error = yield* Layer.build(httpLayer(taken)).pipe(Effect.flip)
      assert.strictEqual(error._tag, "ServeError")
    }).pipe(Effect.provide(Readiness.layer)))

  it("parses Go-style addresses", () => {
    assert.deepStrictEqual(parseMetricsAddress(":8085"), Either.right({ port: 8085 }))
    assert.deepStrictEqual(parseMetricsAddress("127.0.0.1:0"), Either.right({ host: "127.0.0.1", port: 0 }))
    assert.deepStrictEqual(parseMetricsAddress("[::1]:9090"), Either.right({ host: "::1", port: 9090 }))
    assert.deepStrictEqual(parseMetricsAddress("localhost:80"), Either.right({ host: "localhost", port: 80 }))
    for (const bad of ["8085", "", ":", ":http", "host:70000", "::1:8085", "a:1:2"]) {
      const parsed = parseMetricsAddress(bad)
      assert.isTrue(Either.isLeft(parsed), bad)
      if (Either.isLeft(parsed)) assert.include(parsed.left.message, "--metrics-address")
    }
  })
})
