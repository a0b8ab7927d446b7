import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"

import { createSnapshotLocation, getSnapshotLocations } from "../../src/cli/snapshots/location.ts"
import { volumeSnapshotLocationsGvr } from "../../src/volumes/locations.ts"
import { cliFailure, makeHarness, run, serverNamespace } from "../cli/harness.ts"

describe("ark snapshot-location", () => {
  it.effect("create submits a VolumeSnapshotLocation; get lists NAME PROVIDER CONFIG PHASE", () =>
    Effect.gen(function*() {
      const harness = yield* makeHarness()
      yield* run(
        harness,
        createSnapshotLocation({
          name: "ebs",
          namespace: serverNamespace,
          provider: "aws",
          config: ["region=us-east-1,ec2Url=http://localhost:5000"]
        })
      )
      const created = yield* harness.kube.get(volumeSnapshotLocationsGvr, "ebs", serverNamespace)
      assert.deepStrictEqual(created["spec"], {
        provider: "aws",
        config: { region: "us-east-1", ec2Url: "http://localhost:5000" }
      })
      assert.include(harness.stdout[0] ?? "", "Volume snapshot location \"ebs\" configured successfully")

      harness.stdout.length = 0
      yield* run(harness, getSnapshotLocations({ name: Option.none(), namespace: serverNamespace, output: "table" }))
      assert.match(harness.stdout[0] ?? "", /^NAME\s+PROVIDER\s+CONFIG\s+PHASE/)
      assert.match(harness.stdout[1] ?? "", /^ebs\s+aws\s+ec2Url=http:\/\/localhost:5000,region=us-east-1\s+Unknown/)

      const duplicate = yield* cliFailure(
        run(
          harness,
          createSnapshotLocation({
            name: "ebs",
            namespace: serverNamespace,
            provider: "aws",
            config: ["region=x"]
          })
        )
      )
      assert.include(duplicate.message, "already exists")
      const missing = yield* cliFailure(
        run(harness, getSnapshotLocations({ name: Option.some("nope"), namespace: serverNamespace, output: "table" }))
      )
      assert.strictEqual(missing.message, "volume snapshot location \"nope\" not found in namespace heptio-ark")
      const noPath = yield* cliFailure(
        run(
          harness,
          createSnapshotLocation({ name: "disk", namespace: serverNamespace, provider: "local", config: [] })
        )
      )
      assert.include(noPath.message, "--config path=DIR")
      // Velero's k=v,k2=v2 form; a typo'd key is refused with what the provider reads, and nothing is created.
      const typo = yield* cliFailure(
        run(
          harness,
          createSnapshotLocation({ name: "disk", namespace: serverNamespace, provider: "local", config: ["pth=/x"] })
        )
      )
      assert.strictEqual(typo.message, "--config: pth is not a setting of provider local")
      assert.strictEqual(typo.hint, "provider local understands path")
      const absent = yield* Effect.flip(harness.kube.get(volumeSnapshotLocationsGvr, "disk", serverNamespace))
      assert.strictEqual(absent._tag, "KubeNotFound")
    }))
})
