// Item actions on the Memory layers: Ark's own rules as the default restore actions, and an
// embedding program's backup and restore actions — matching, changing, skipping, adding related
// items, failing one item only, and a bad selector refused up front.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"

import type { BackupItemAction, RestoreItemAction } from "../../services/ItemActions.ts"
import { BackupItemActions, ItemActionError, RestoreItemActions } from "../../services/ItemActions.ts"
import type { KubeObject } from "../../services/KubeClient.ts"
import { ObjectStore } from "../../services/ObjectStore.ts"
import { defaultRestoreActions } from "../../src/restore/actions.ts"
import type { RestoreContext } from "../../src/restore/transforms.ts"
import { transformItem } from "../../src/restore/transforms.ts"
import { configMap, deployment, namespace, pod, readTarball, secret } from "../backup/fixtures.ts"
import { backupSource, dump, makeRestore, makeWorld, objectKey, restoreInto, service } from "../restore/fixtures.ts"

const context: RestoreContext = { restoreName: "r1", backupName: "b1", namespaceMapping: { shop: "shop-copy" } }

const withImage = (object: KubeObject, image: string): KubeObject => {
  const spec = object["spec"] as { template: { spec: { containers: Array<Record<string, unknown>> } } }
  return {
    ...object,
    spec: {
      ...spec,
      template: {
        ...spec.template,
        spec: { ...spec.template.spec, containers: [{ ...spec.template.spec.containers[0], image }] }
      }
    }
  }
}

const imageOf = (object: KubeObject | undefined) =>
  (object?.["spec"] as { template: { spec: { containers: Array<{ image: string }> } } } | undefined)?.template.spec
    .containers[0]?.image

/** Rewrites docker.io images to a mirror, as a migration between registries would. */
const mirrorImages: RestoreItemAction = {
  name: "example.com/mirror-images",
  appliesTo: { resources: ["deployments.apps"] },
  execute: ({ item }) =>
    Effect.succeed({ _tag: "Restore", item: withImage(item, `mirror.example.com/${imageOf(item) ?? ""}`) })
}

describe("Ark's default restore actions", () => {
  it("turn objects into what is created exactly as the restore rules do", () =>
    Effect.gen(function*() {
      const objects: ReadonlyArray<[string, KubeObject]> = [
        [
          "services",
          service("shop", "web", { type: "NodePort", ports: [{ name: "http", port: 80, nodePort: 30080 }] })
        ],
        ["pods", { ...pod("shop", "p"), spec: { nodeName: "n1", containers: [] } }],
        ["configmaps", configMap("shop", "c")],
        ["namespaces", namespace("shop")],
        ["secrets", secret("shop", "s")]
      ]
      for (const [resource, object] of objects) {
        const applied = yield* defaultRestoreActions.apply(resource, object, context)
        assert.deepStrictEqual(applied, { _tag: "Restore", item: transformItem(resource, object, context) }, resource)
      }
    }))
})

describe("an embedding program's restore actions", () => {
  it.effect("run after Ark's, on the items they select, and their changes are what is created", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* world.source.control.seed([
        namespace("shop"),
        deployment("shop", "web", { tier: "front" }),
        deployment("shop", "db", { tier: "data" }),
        configMap("shop", "settings")
      ])
      const backup = yield* backupSource(world, { includedNamespaces: ["shop"] })
      const seen: Array<string> = []
      const frontOnly: RestoreItemAction = {
        ...mirrorImages,
        appliesTo: { resources: ["deployments.apps"], labelSelector: "tier=front" },
        execute: (input) => {
          // Ark's rules ran first: no resourceVersion, already in the mapped namespace.
          seen.push(
            `${input.item.metadata.namespace}/${input.item.metadata.name} rv=${input.item.metadata.resourceVersion}`
          )
          return mirrorImages.execute!(input)
        }
      }
      const run = yield* restoreInto(
        world.target,
        world,
        makeRestore({ namespaceMapping: { shop: "shop-copy" } }),
        backup
      ).pipe(Effect.provideService(RestoreItemActions, [frontOnly]))
      assert.strictEqual(run.restore.status?.phase, "Completed")
      assert.deepStrictEqual(seen, ["shop-copy/web rv=undefined"])
      const objects = yield* dump(world.target)
      assert.strictEqual(
        imageOf(objects.get(objectKey("deployments.apps", "shop-copy", "web"))),
        "mirror.example.com/nginx"
      )
      assert.strictEqual(imageOf(objects.get(objectKey("deployments.apps", "shop-copy", "db"))), "nginx")
    }))

  it.effect("skip an item or fail it alone, each with the action's name, and the rest is restored", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* world.source.control.seed([
        namespace("shop"),
        configMap("shop", "keep"),
        configMap("shop", "drop"),
        configMap("shop", "broken")
      ])
      const backup = yield* backupSource(world, { includedNamespaces: ["shop"] })
      const picky: RestoreItemAction = {
        name: "example.com/picky",
        appliesTo: { resources: ["configmaps"], namespaces: ["shop"] },
        skip: (_, original) => (original.metadata.name === "drop" ? "not wanted here" : undefined),
        execute: ({ item }) =>
          item.metadata.name === "broken"
            ? Effect.fail(new ItemActionError({ message: "cannot rewrite this one" }))
            : Effect.succeed({ _tag: "Restore", item })
      }
      const run = yield* restoreInto(world.target, world, makeRestore({}), backup).pipe(
        Effect.provideService(RestoreItemActions, [picky])
      )
      assert.strictEqual(run.restore.status?.phase, "PartiallyFailed")
      assert.strictEqual(run.counts.failed, 1)
      const objects = yield* dump(world.target)
      assert.isTrue(objects.has(objectKey("configmaps", "shop", "keep")))
      assert.isFalse(objects.has(objectKey("configmaps", "shop", "drop")))
      assert.isFalse(objects.has(objectKey("configmaps", "shop", "broken")))
      assert.include(JSON.stringify(run.restore.status?.outcomes), "skipped by example.com/picky")
    }))

  it.effect("with a label selector that does not parse, the restore fails validation naming the action", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* world.source.control.seed([namespace("shop"), configMap("shop", "c")])
      const backup = yield* backupSource(world, { includedNamespaces: ["shop"] })
      const bad: RestoreItemAction = { ...mirrorImages, appliesTo: { labelSelector: "tier in (front" } }
      const before = yield* dump(world.target)
      const run = yield* restoreInto(world.target, world, makeRestore({}), backup).pipe(
        Effect.provideService(RestoreItemActions, [bad])
      )
      assert.strictEqual(run.restore.status?.phase, "FailedValidation")
      assert.match(
        run.restore.status?.validationErrors?.join("\n") ?? "",
        /item action example\.com\/mirror-images: labelSelector/
      )
      assert.deepStrictEqual([...(yield* dump(world.target)).keys()], [...before.keys()])
    }))
})

describe("an embedding program's backup actions", () => {
  it.effect("change, skip, and add related items from the cluster, each written once", () =>
    Effect.gen(function*() {
      const world = yield* makeWorld
      yield* world.source.control.seed([
        namespace("shop"),
        namespace("shared"),
        configMap("shop", "settings", { app: "web" }),
        configMap("shop", "scratch"),
        configMap("shared", "ca-bundle"),
        deployment("shop", "web")
      ])
      const actions: ReadonlyArray<BackupItemAction> = [
        {
          name: "example.com/scrub",
          appliesTo: { resources: ["configmaps"], labelSelector: "app=web" },
          execute: ({ item }) => Effect.succeed({ _tag: "Keep", item: { ...item, data: { scrubbed: "true" } } })
        },
        {
          name: "example.com/no-scratch",
          appliesTo: { resources: ["configmaps"] },
          execute: ({ item }) =>
            Effect.succeed(
              item.metadata.name === "scratch"
                ? { _tag: "Skip", reason: "scratch data" }
                : { _tag: "Keep", item }
            )
        },
        {
          name: "example.com/with-ca",
          appliesTo: { resources: ["deployments.apps"] },
          execute: ({ item }) =>
            Effect.succeed({
              _tag: "Keep",
              item,
              additionalItems: [
                { groupResource: "configmaps", namespace: "shared", name: "ca-bundle" },
                { groupResource: "configmaps", namespace: "shop", name: "settings" },
                { groupResource: "configmaps", namespace: "shared", name: "missing" }
              ]
            })
        }
      ]
      const backup = yield* backupSource(world, { includedNamespaces: ["shop"] }).pipe(
        Effect.provideService(BackupItemActions, actions)
      )
      assert.strictEqual(backup.status?.phase, "Completed")
      assert.strictEqual(backup.status?.warnings, 1) // the missing additional item
      const { objects, paths } = yield* readTarball("b1").pipe(Effect.provideService(ObjectStore, world.store))
      assert.include(paths, "resources/configmaps/namespaces/shared/ca-bundle.json")
      assert.notInclude(paths, "resources/configmaps/namespaces/shop/scratch.json")
      assert.strictEqual(paths.filter((path) => path.endsWith("/shop/settings.json")).length, 1)
      assert.deepStrictEqual(
        (objects.get("resources/configmaps/namespaces/shop/settings.json") as KubeObject | undefined)?.["data"],
        { scrubbed: "true" }
      )
    }))
})
