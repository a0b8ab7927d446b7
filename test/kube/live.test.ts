import * as http from "node:http"
import type { AddressInfo } from "node:net"

import { assert, describe, it } from "@effect/vitest"
import { KubeConfig } from "@kubernetes/client-node"
import { Chunk, Duration, Effect, Either, Fiber, Option, Schedule, Stream, TestClock, TestServices } from "effect"
import { vi } from "vitest"

import type { KubeLiveConfig } from "../../layers/kube/Live.ts"
import { makeFromKubeConfig, parseListPage, parseResourceList, preferredGroupVersions } from "../../layers/kube/Live.ts"
import { statusError } from "../../layers/kube/live/errors.ts"
import { listQuery, resourcePath, watchQuery, writeQuery } from "../../layers/kube/live/paths.ts"
import { readRetry, writeRetry } from "../../layers/kube/live/retry.ts"
import { parseWatchLine } from "../../layers/kube/live/watch.ts"
import type { KubeClient, KubeError } from "../../services/KubeClient.ts"
import { KubeUnavailable, throttleObserver } from "../../services/KubeClient.ts"

const deployments = { group: "apps", version: "v1", resource: "deployments" }
const pods = { group: "", version: "v1", resource: "pods" }
const ctx = { resource: "deployments.apps", name: "web" }

describe("Kube Live: URLs", () => {
  it("builds core, group, namespaced, named and subresource paths", () => {
    assert.strictEqual(resourcePath(pods), "/api/v1/pods")
    assert.strictEqual(resourcePath(pods, { namespace: "default" }), "/api/v1/namespaces/default/pods")
    assert.strictEqual(
      resourcePath(deployments, { namespace: "ns", name: "web" }),
      "/apis/apps/v1/namespaces/ns/deployments/web"
    )
    assert.strictEqual(
      resourcePath(deployments, { namespace: "ns", name: "web", subresource: "status" }),
      "/apis/apps/v1/namespaces/ns/deployments/web/status"
    )
    assert.strictEqual(
      resourcePath({ group: "", version: "v1", resource: "namespaces" }, { name: "kube-system" }),
      "/api/v1/namespaces/kube-system"
    )
    assert.strictEqual(
      resourcePath({ group: "example.com", version: "v1", resource: "widgets" }, { name: "a:b" }),
      "/apis/example.com/v1/widgets/a%3Ab"
    )
  })

  it("pins the revision on the first list page only; later pages carry the continue token", () => {
    const options = {
      resourceVersion: "123",
      resourceVersionMatch: "Exact" as const,
      labelSelector: "app=web",
      fieldSelector: "metadata.name=x",
      limit: 50
    }
    assert.deepStrictEqual(Object.fromEntries(listQuery(options)), {
      limit: "50",
      labelSelector: "app=web",
      fieldSelector: "metadata.name=x",
      resourceVersion: "123",
      resourceVersionMatch: "Exact"
    })
    assert.deepStrictEqual(Object.fromEntries(listQuery(options, "tok")), {
      limit: "50",
      labelSelector: "app=web",
      fieldSelector: "metadata.name=x",
      continue: "tok"
    })
    assert.deepStrictEqual(Object.fromEntries(listQuery({})), { limit: "500" })
  })

  it("watches with bookmarks from a revision; writes name Ark as field manager and dry-run with dryRun=All", () => {
    assert.deepStrictEqual(Object.fromEntries(watchQuery({ resourceVersion: "77", labelSelector: "a=b" })), {
      watch: "true",
      allowWatchBookmarks: "true",
      resourceVersion: "77",
      labelSelector: "a=b"
    })
    assert.strictEqual(writeQuery({ dryRun: true }).toString(), "fieldManager=ark&dryRun=All")
    assert.strictEqual(writeQuery({}).toString(), "fieldManager=ark")
  })
})

describe("Kube Live: status → error", () => {
  const table: ReadonlyArray<readonly [number, string | undefined, KubeError["_tag"]]> = [
    [404, "NotFound", "KubeNotFound"],
    [409, "AlreadyExists", "KubeAlreadyExists"],
    [409, "Conflict", "KubeConflict"],
    [410, "Expired", "KubeGone"],
    [410, undefined, "KubeGone"],
    [400, "BadRequest", "KubeInvalid"],
    [422, "Invalid", "KubeInvalid"],
    [405, "MethodNotAllowed", "KubeInvalid"],
    [401, "Unauthorized", "KubeForbidden"],
    [403, "Forbidden", "KubeForbidden"],
    [429, "TooManyRequests", "KubeUnavailable"],
    [500, "InternalError", "KubeUnavailable"],
    [503, "ServiceUnavailable", "KubeUnavailable"],
    [504, "Timeout", "KubeUnavailable"]
  ]
  for (const [code, reason, tag] of table) {
    it(`${code} ${reason ?? "(no Status)"} → ${tag}`, () => {
      const body = reason === undefined ? undefined : { kind: "Status", code, reason, message: `m-${code}` }
      const error = statusError(code, body, ctx)
      assert.strictEqual(error._tag, tag)
      assert.strictEqual(error.resource, "deployments.apps")
      assert.strictEqual(error.name, "web")
      assert.strictEqual(error.message, reason === undefined ? `HTTP ${code}` : `m-${code}`)
    })
  }

  it("carries Retry-After from the header or the Status details", () => {
    const fromHeader = statusError(429, { reason: "TooManyRequests" }, ctx, "7")
    assert.isTrue(
      fromHeader instanceof KubeUnavailable &&
        Duration.equals(fromHeader.retryAfter ?? Duration.zero, Duration.seconds(7))
    )
    const fromDetails = statusError(503, { details: { retryAfterSeconds: 3 } }, ctx)
    assert.isTrue(
      fromDetails instanceof KubeUnavailable &&
        Duration.equals(fromDetails.retryAfter ?? Duration.zero, Duration.seconds(3))
    )
    const none = statusError(500, {}, ctx)
    assert.isTrue(none instanceof KubeUnavailable && none.retryAfter === undefined && none.status === 500)
  })
})

describe("Kube Live: watch lines", () => {
  it("parses events, skips blank lines and unknown types", () => {
    const line = JSON.stringify({
      type: "MODIFIED",
      object: { apiVersion: "v1", kind: "Pod", metadata: { name: "p", resourceVersion: "9" } }
    })
    const parsed = parseWatchLine(line, ctx)
    assert.strictEqual(parsed._tag, "Event")
    if (parsed._tag === "Event") {
      assert.strictEqual(parsed.event.type, "MODIFIED")
      assert.strictEqual(parsed.event.object.metadata.resourceVersion, "9")
    }
    assert.strictEqual(parseWatchLine("", ctx)._tag, "Skip")
    assert.strictEqual(parseWatchLine("  \r", ctx)._tag, "Skip")
    assert.strictEqual(parseWatchLine(JSON.stringify({ type: "SURPRISE", object: { metadata: {} } }), ctx)._tag, "Skip")
    const bookmark = parseWatchLine(
      JSON.stringify({
        type: "BOOKMARK",
        object: { kind: "Pod", apiVersion: "v1", metadata: { resourceVersion: "12" } }
      }),
      ctx
    )
    assert.isTrue(bookmark._tag === "Event" && bookmark.event.type === "BOOKMARK")
  })

  it("an ERROR event with 410 Expired is KubeGone; other codes map as statuses; garbage is KubeUnavailable", () => {
    const gone = parseWatchLine(
      JSON.stringify({
        type: "ERROR",
        object: { kind: "Status", code: 410, reason: "Expired", message: "too old resource version: 1 (5)" }
      }),
      ctx
    )
    assert.isTrue(
      gone._tag === "Error" && gone.error._tag === "KubeGone" &&
        gone.error.message === "too old resource version: 1 (5)"
    )
    const internal = parseWatchLine(
      JSON.stringify({ type: "ERROR", object: { kind: "Status", code: 500, message: "boom" } }),
      ctx
    )
    assert.isTrue(internal._tag === "Error" && internal.error._tag === "KubeUnavailable")
    const garbage = parseWatchLine("{not json", ctx)
    assert.isTrue(garbage._tag === "Error" && garbage.error._tag === "KubeUnavailable")
  })
})

describe("Kube Live: discovery and list parsing", () => {
  it("folds subresources into their parent and keeps discovery fields", () => {
    const resources = parseResourceList("apps/v1", {
      resources: [
        {
          name: "deployments",
          singularName: "deployment",
          namespaced: true,
          kind: "Deployment",
          verbs: ["get", "list"],
          shortNames: ["deploy"]
        },
        { name: "deployments/status", namespaced: true, kind: "Deployment", verbs: ["get", "patch"] },
        {
          name: "deployments/scale",
          namespaced: true,
          group: "autoscaling",
          version: "v1",
          kind: "Scale",
          verbs: ["get"]
        },
        { name: "controllerrevisions", singularName: "", namespaced: true, kind: "ControllerRevision", verbs: ["list"] }
      ]
    })
    assert.deepStrictEqual(resources, [
      {
        group: "apps",
        version: "v1",
        resource: "deployments",
        kind: "Deployment",
        namespaced: true,
        verbs: ["get", "list"],
        shortNames: ["deploy"],
        singularName: "deployment",
        statusSubresource: true
      },
      {
        group: "apps",
        version: "v1",
        resource: "controllerrevisions",
        kind: "ControllerRevision",
        namespaced: true,
        verbs: ["list"],
        shortNames: [],
        singularName: "controllerrevision",
        statusSubresource: false
      }
    ])
  })

  it("takes each group's preferred version", () => {
    assert.deepStrictEqual(
      preferredGroupVersions({
        groups: [
          {
            name: "apps",
            versions: [{ groupVersion: "apps/v1", version: "v1" }],
            preferredVersion: { groupVersion: "apps/v1", version: "v1" }
          },
          {
            name: "autoscaling",
            versions: [{ groupVersion: "autoscaling/v2" }, { groupVersion: "autoscaling/v1" }],
            preferredVersion: { groupVersion: "autoscaling/v2" }
          },
          { name: "odd", versions: [{ groupVersion: "odd/v1beta1" }] }
        ]
      }),
      ["apps/v1", "autoscaling/v2", "odd/v1beta1"]
    )
  })

  it("gives list items the apiVersion and kind the server leaves out", () => {
    const { continueToken, page } = parseListPage({
      apiVersion: "apps/v1",
      kind: "DeploymentList",
      metadata: { resourceVersion: "42", continue: "next" },
      items: [{ metadata: { name: "a" } }, { metadata: { name: "b" }, spec: { replicas: 2 } }]
    })
    assert.strictEqual(continueToken, "next")
    assert.strictEqual(page.resourceVersion, "42")
    assert.deepStrictEqual(page.items, [
      { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "a" } },
      { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "b" }, spec: { replicas: 2 } }
    ])
    assert.strictEqual(
      parseListPage({ kind: "PodList", metadata: { continue: "" }, items: [] }).continueToken,
      undefined
    )
  })
})

describe("Kube Live: retry schedules", () => {
  const unavailable = (status: number, retryAfter?: Duration.Duration) =>
    new KubeUnavailable({
      resource: "pods",
      message: "busy",
      status,
      ...(retryAfter === undefined ? {} : { retryAfter })
    })

  it.effect("reads retry on KubeUnavailable and wait at least the server's Retry-After", () =>
    Effect.gen(function*() {
      let attempts = 0
      const flaky = Effect.suspend(() => {
        attempts++
        return attempts < 3 ? Effect.fail<KubeError>(unavailable(503, Duration.seconds(20))) : Effect.succeed("ok")
      })
      const fiber = yield* Effect.fork(flaky.pipe(Effect.retry(readRetry(5))))
      yield* TestClock.adjust("19 seconds")
      assert.strictEqual(attempts, 1)
      yield* TestClock.adjust("1 second")
      assert.strictEqual(attempts, 2)
      yield* TestClock.adjust("20 seconds")
      assert.strictEqual(yield* Fiber.join(fiber), "ok")
      assert.strictEqual(attempts, 3)
    }))

  it.effect("reads give up after the bounded retries, and never retry other errors", () =>
    Effect.gen(function*() {
      let attempts = 0
      const alwaysDown = Effect.suspend(() => {
        attempts++
        return Effect.fail<KubeError>(unavailable(500))
      })
      const fiber = yield* Effect.fork(Effect.either(alwaysDown.pipe(Effect.retry(readRetry(3)))))
      yield* TestClock.adjust("10 minutes")
      assert.isTrue(Either.isLeft(yield* Fiber.join(fiber)))
      assert.strictEqual(attempts, 4)

      let forbidden = 0
      yield* Effect.either(
        Effect.suspend(() => {
          forbidden++
          return Effect.fail(statusError(403, {}, ctx))
        }).pipe(Effect.retry(readRetry(3)))
      )
      assert.strictEqual(forbidden, 1)
    }))

  it.effect("writes retry only on 429", () =>
    Effect.gen(function*() {
      let attempts = 0
      yield* Effect.either(
        Effect.suspend(() => {
          attempts++
          return Effect.fail<KubeError>(unavailable(503))
        }).pipe(Effect.retry(writeRetry(3)))
      )
      assert.strictEqual(attempts, 1)
      let throttled = 0
      const fiber = yield* Effect.fork(
        Effect.suspend(() => {
          throttled++
          return throttled < 2 ? Effect.fail<KubeError>(unavailable(429, Duration.seconds(1))) : Effect.succeed("ok")
        }).pipe(Effect.retry(writeRetry(3)))
      )
      yield* TestClock.adjust("2 seconds")
      assert.strictEqual(yield* Fiber.join(fiber), "ok")
    }))
})

// ---- The real transport against a scripted API server on loopback ----

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void

interface FakeApiServer {
  readonly client: KubeClient.Shape
  readonly requests: Array<
    { readonly method: string; readonly url: string; readonly headers: http.IncomingHttpHeaders; readonly body: string }
  >
  readonly closed: Array<string>
}

const withFakeServer = <A, E>(
  handler: Handler,
  body: (server: FakeApiServer) => Effect.Effect<A, E>,
  config: KubeLiveConfig = {}
) =>
  Effect.acquireUseRelease(
    Effect.promise(() =>
      new Promise<{ server: http.Server; requests: FakeApiServer["requests"]; closed: Array<string> }>((resolve) => {
        const requests: FakeApiServer["requests"] = []
        const closed: Array<string> = []
        const server = http.createServer((req, res) => {
          let text = ""
          req.on("data", (chunk: Buffer) => (text += chunk.toString()))
          req.on("end", () => {
            requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: text })
            res.on("close", () => closed.push(req.url ?? ""))
            handler(req, res, text)
          })
        })
        server.listen(0, "127.0.0.1", () => resolve({ server, requests, closed }))
      })
    ),
    ({ closed, requests, server }) =>
      Effect.gen(function*() {
        const kc = new KubeConfig()
        kc.loadFromOptions({
          clusters: [{
            name: "fake",
            server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
            skipTLSVerify: true
          }],
          users: [{ name: "tester", token: "t0ken" }],
          contexts: [{ name: "fake", cluster: "fake", user: "tester" }],
          currentContext: "fake"
        })
        const client = yield* Effect.orDie(
          makeFromKubeConfig(kc, { requestTimeout: "10 seconds", readRetries: 3, ...config })
        )
        return yield* body({ client, requests, closed })
      }),
    ({ server }) =>
      Effect.promise(() =>
        new Promise<void>((resolve) => {
          server.closeAllConnections()
          server.close(() => resolve())
        })
      )
  )

const sendJson = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { "Content-Type": "application/json", ...headers })
  res.end(JSON.stringify(body))
}

const waitFor = (condition: () => boolean) =>
  Effect.suspend(() => condition() ? Effect.void : Effect.fail("not yet")).pipe(
    Effect.retry(Schedule.spaced("10 millis")),
    // A local HTTP server, but a loaded CI machine can delay its answers by seconds.
    Effect.timeoutFail({ duration: "30 seconds", onTimeout: () => new Error("condition not met within 30s") })
  )

describe("Kube Live over HTTP", () => {
  it.live("follows continue tokens at one revision, authenticating with the kubeconfig's token", () =>
    withFakeServer((req, res) => {
      const url = new URL(req.url ?? "", "http://x")
      const token = url.searchParams.get("continue")
      if (token === null) {
        sendJson(res, 200, {
          apiVersion: "v1",
          kind: "PodList",
          metadata: { resourceVersion: "100", continue: "p2" },
          items: [{ metadata: { name: "a" } }]
        })
      } else {
        sendJson(res, 200, {
          apiVersion: "v1",
          kind: "PodList",
          metadata: { resourceVersion: "100" },
          items: [{ metadata: { name: "b" } }]
        })
      }
    }, ({ client, requests }) =>
      Effect.gen(function*() {
        const pages = Chunk.toReadonlyArray(
          yield* Stream.runCollect(
            client.listPages(pods, {
              namespace: "default",
              resourceVersion: "100",
              resourceVersionMatch: "Exact",
              limit: 1
            })
          )
        )
        assert.deepStrictEqual(
          pages.map((p) => [p.resourceVersion, p.items.map((i) => `${i.kind}/${i.metadata.name}`)]),
          [
            ["100", ["Pod/a"]],
            ["100", ["Pod/b"]]
          ]
        )
        assert.deepStrictEqual(requests.map((r) => r.url), [
          "/api/v1/namespaces/default/pods?limit=1&resourceVersion=100&resourceVersionMatch=Exact",
          "/api/v1/namespaces/default/pods?limit=1&continue=p2"
        ])
        assert.strictEqual(requests[0]?.headers.authorization, "Bearer t0ken")
      })))

  it.live("a continue token that expired ends the list with KubeGone", () =>
    withFakeServer((req, res) => {
      if ((req.url ?? "").includes("continue=")) {
        sendJson(res, 410, { kind: "Status", code: 410, reason: "Expired", message: "continue expired" })
      } else sendJson(res, 200, { kind: "PodList", metadata: { resourceVersion: "5", continue: "old" }, items: [] })
    }, ({ client }) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(Stream.runDrain(client.listPages(pods)))
        assert.strictEqual(error._tag, "KubeGone")
      })))

  it.live("retries a throttled read and then succeeds", () => {
    let served = 0
    return withFakeServer((_req, res) => {
      if (served++ === 0) {
        sendJson(res, 429, { kind: "Status", code: 429, reason: "TooManyRequests", message: "slow down" })
      } else {sendJson(res, 200, {
          apiVersion: "apps/v1",
          kind: "Deployment",
          metadata: { name: "web", namespace: "ns" }
        })}
    }, ({ client, requests }) =>
      Effect.gen(function*() {
        const object = yield* client.get(deployments, "web", "ns")
        assert.strictEqual(object.metadata.name, "web")
        assert.strictEqual(requests.length, 2)
      }))
  })

  it.live("tells the sending fiber's throttleObserver of each 429 it retries, and of nothing else", () => {
    let served = 0
    return withFakeServer((req, res) => {
      if (req.method === "POST" && served++ === 0) {
        sendJson(res, 429, { kind: "Status", code: 429, reason: "TooManyRequests", message: "slow down" })
      } else if (req.method === "POST") {
        sendJson(res, 201, { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "ns" } })
      } else sendJson(res, 500, { kind: "Status", code: 500, message: "broken" })
    }, ({ client }) =>
      Effect.gen(function*() {
        const told: Array<Duration.Duration | undefined> = []
        const observe = (retryAfter: Duration.Duration | undefined) => Effect.sync(() => void told.push(retryAfter))
        const web = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "ns" } }
        const created = yield* Effect.locally(client.create(deployments, web), throttleObserver, observe)
        assert.strictEqual(created.metadata.name, "web")
        assert.deepStrictEqual(told, [undefined])
        // A 500 is retried as a read but is no throttling.
        yield* Effect.locally(Effect.either(client.get(deployments, "web", "ns")), throttleObserver, observe)
        assert.deepStrictEqual(told, [undefined])
      }), { readRetries: 1 })
  })

  it.live("reads the kubeconfig's credentials once per 10 seconds, not once per request", () => {
    const applied = vi.spyOn(KubeConfig.prototype, "applyToHTTPSOptions")
    vi.useFakeTimers({ toFake: ["Date"] })
    return withFakeServer(
      (_req, res) => sendJson(res, 200, { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" } }),
      ({ client, requests }) =>
        Effect.gen(function*() {
          for (let i = 0; i < 5; i++) yield* client.get(deployments, "web", "ns")
          assert.strictEqual(applied.mock.calls.length, 1)
          vi.advanceTimersByTime(10_000)
          yield* client.get(deployments, "web", "ns")
          assert.strictEqual(applied.mock.calls.length, 2)
          // Every request still carries them.
          assert.isTrue(requests.every((request) => request.headers.authorization === "Bearer t0ken"))
          assert.strictEqual(requests.length, 6)
        })
    ).pipe(Effect.ensuring(Effect.sync(() => {
      vi.useRealTimers()
      applied.mockRestore()
    })))
  })

  it.effect("--client-qps/--client-burst: a burst goes at once, the rest at the steady rate (TestClock)", () => {
    const live = <A, E>(effect: Effect.Effect<A, E>) => TestServices.provideLive(effect)
    return withFakeServer(
      (_req, res) => sendJson(res, 200, { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" } }),
      ({ client, requests }) =>
        Effect.gen(function*() {
          const gets = yield* Effect.forkAll(Array.from({ length: 4 }, () => client.get(deployments, "web", "ns")))
          yield* live(waitFor(() => requests.length >= 2))
          // qps 2: one more every 500 ms of the clock, and the last not before the clock says so.
          yield* TestClock.adjust("500 millis")
          yield* live(waitFor(() => requests.length >= 3))
          assert.isTrue(Option.isNone(yield* Fiber.poll(gets)))
          yield* TestClock.adjust("500 millis")
          yield* live(waitFor(() => requests.length >= 4))
          assert.strictEqual((yield* Fiber.join(gets)).length, 4)
          assert.strictEqual(requests.length, 4)
        }),
      { rateLimit: { qps: 2, burst: 2 } }
    )
  })

  it.live("maps write failures by status and reason, and sends patches, dry runs and deletes as the API expects", () =>
    withFakeServer((req, res, body) => {
      if (req.method === "POST") {
        sendJson(res, 409, { kind: "Status", code: 409, reason: "AlreadyExists", message: "exists" })
      } else if (req.method === "PUT") {
        sendJson(res, 409, { kind: "Status", code: 409, reason: "Conflict", message: "stale" })
      } else if (req.method === "PATCH") {
        sendJson(res, 200, {
          apiVersion: "apps/v1",
          kind: "Deployment",
          metadata: { name: "web" },
          echoed: JSON.parse(body)
        })
      } else if (req.method === "DELETE") {
        sendJson(res, 404, { kind: "Status", code: 404, reason: "NotFound", message: "gone" })
      } else sendJson(res, 500, {})
    }, ({ client, requests }) =>
      Effect.gen(function*() {
        const web = {
          apiVersion: "apps/v1",
          kind: "Deployment",
          metadata: { name: "web", namespace: "ns", resourceVersion: "3" }
        }
        assert.strictEqual(
          (yield* Effect.flip(client.create(deployments, web, { dryRun: true })))._tag,
          "KubeAlreadyExists"
        )
        assert.strictEqual((yield* Effect.flip(client.update(deployments, web)))._tag, "KubeConflict")
        const merged = yield* client.patch(deployments, "web", { type: "merge", body: { spec: { replicas: 3 } } }, "ns")
        assert.deepStrictEqual(merged["echoed"], { spec: { replicas: 3 } })
        yield* client.patchStatus(deployments, "web", {
          type: "json",
          ops: [{ op: "replace", path: "/status/replicas", value: 1 }]
        }, "ns")
        const error = yield* Effect.flip(client.delete(deployments, "web", "ns", { propagationPolicy: "Foreground" }))
        assert.strictEqual(error._tag, "KubeNotFound")
        assert.deepStrictEqual(requests.map((r) => [r.method, r.url, r.headers["content-type"]]), [
          ["POST", "/apis/apps/v1/namespaces/ns/deployments?fieldManager=ark&dryRun=All", "application/json"],
          ["PUT", "/apis/apps/v1/namespaces/ns/deployments/web?fieldManager=ark", "application/json"],
          ["PATCH", "/apis/apps/v1/namespaces/ns/deployments/web?fieldManager=ark", "application/merge-patch+json"],
          [
            "PATCH",
            "/apis/apps/v1/namespaces/ns/deployments/web/status?fieldManager=ark",
            "application/json-patch+json"
          ],
          ["DELETE", "/apis/apps/v1/namespaces/ns/deployments/web", "application/json"]
        ])
        assert.deepStrictEqual(JSON.parse(requests[4]?.body ?? ""), {
          apiVersion: "v1",
          kind: "DeleteOptions",
          propagationPolicy: "Foreground"
        })
        // A 409 write is never repeated.
        assert.strictEqual(requests.filter((r) => r.method === "PUT").length, 1)
      })))

  it.live("discovers preferred versions and reports an unavailable aggregated API as a failed group", () =>
    withFakeServer((req, res) => {
      switch (req.url) {
        case "/api/v1":
          return sendJson(res, 200, {
            groupVersion: "v1",
            resources: [{ name: "pods", namespaced: true, kind: "Pod", verbs: ["list"] }, {
              name: "pods/status",
              namespaced: true,
              kind: "Pod",
              verbs: ["get"]
            }]
          })
        case "/apis":
          return sendJson(res, 200, {
            groups: [
              { name: "apps", versions: [{ groupVersion: "apps/v1" }], preferredVersion: { groupVersion: "apps/v1" } },
              {
                name: "metrics.k8s.io",
                versions: [{ groupVersion: "metrics.k8s.io/v1beta1" }],
                preferredVersion: { groupVersion: "metrics.k8s.io/v1beta1" }
              }
            ]
          })
        case "/apis/apps/v1":
          return sendJson(res, 200, {
            groupVersion: "apps/v1",
            resources: [{ name: "deployments", namespaced: true, kind: "Deployment", verbs: ["list"] }]
          })
        default:
          return sendJson(res, 503, {
            kind: "Status",
            code: 503,
            reason: "ServiceUnavailable",
            message: "service unavailable"
          })
      }
    }, ({ client }) =>
      Effect.gen(function*() {
        const discovery = yield* client.discover
        assert.deepStrictEqual(
          discovery.resources.map((r) => `${r.resource}.${r.group}/${r.version}:${r.statusSubresource}`),
          ["pods./v1:true", "deployments.apps/v1:false"]
        )
        assert.deepStrictEqual(discovery.failedGroups, [{
          groupVersion: "metrics.k8s.io/v1beta1",
          message: "service unavailable"
        }])
      })))

  it.live("streams watch events, ends with KubeGone on an ERROR 410", () =>
    withFakeServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" })
      res.write(
        JSON.stringify({
          type: "ADDED",
          object: { apiVersion: "v1", kind: "Pod", metadata: { name: "a", resourceVersion: "2" } }
        }) + "\n"
      )
      // An event split across writes must still parse as one line.
      const modified = JSON.stringify({
        type: "MODIFIED",
        object: { apiVersion: "v1", kind: "Pod", metadata: { name: "a", resourceVersion: "3" } }
      }) + "\n"
      res.write(modified.slice(0, 10))
      setImmediate(() => {
        res.write(modified.slice(10))
        res.write(
          JSON.stringify({
            type: "BOOKMARK",
            object: { apiVersion: "v1", kind: "Pod", metadata: { resourceVersion: "4" } }
          }) + "\n"
        )
        res.write(
          JSON.stringify({
            type: "ERROR",
            object: { kind: "Status", code: 410, reason: "Expired", message: "too old" }
          }) + "\n"
        )
      })
    }, ({ client, requests }) =>
      Effect.gen(function*() {
        const seen: Array<string> = []
        const error = yield* Effect.flip(
          Stream.runForEach(
            client.watch(pods, { namespace: "default", resourceVersion: "1" }),
            (event) => Effect.sync(() => seen.push(`${event.type}:${event.object.metadata.resourceVersion}`))
          )
        )
        assert.strictEqual(error._tag, "KubeGone")
        assert.deepStrictEqual(seen, ["ADDED:2", "MODIFIED:3", "BOOKMARK:4"])
        assert.strictEqual(
          requests[0]?.url,
          "/api/v1/namespaces/default/pods?watch=true&allowWatchBookmarks=true&resourceVersion=1"
        )
      })))

  it.live("interrupting a watch aborts the request", () =>
    withFakeServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "application/json" })
      res.write(
        JSON.stringify({ type: "ADDED", object: { apiVersion: "v1", kind: "Pod", metadata: { name: "a" } } }) + "\n"
      )
      // Then stays open, as a quiet watch does.
    }, ({ client, closed, requests }) =>
      Effect.gen(function*() {
        const first = yield* Stream.runHead(client.watch(pods))
        assert.isTrue(Option.isSome(first))
        yield* waitFor(() => closed.length === 1)
        const fiber = yield* Effect.fork(Stream.runDrain(client.watch(pods)))
        yield* waitFor(() => requests.length === 2)
        yield* Fiber.interrupt(fiber)
        yield* waitFor(() => closed.length === 2)
      })))
})
