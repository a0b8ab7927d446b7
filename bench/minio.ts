// The test environment's MinIO bucket as an ObjectStore, under a prefix of the benchmark's own.
import { Config, Effect, Layer, Redacted } from "effect"

import * as S3Store from "../layers/objectstore/S3.ts"

export const minioStore = (prefix: string) =>
  Layer.unwrapEffect(
    Effect.gen(function*() {
      return S3Store.layer({
        bucket: yield* Config.string("ARK_TEST_S3_BUCKET"),
        prefix,
        s3Url: yield* Config.string("ARK_TEST_S3_URL"),
        s3ForcePathStyle: true,
        region: yield* Config.string("AWS_REGION"),
        credentials: {
          accessKeyId: yield* Config.string("AWS_ACCESS_KEY_ID"),
          secretAccessKey: Redacted.make(yield* Config.string("AWS_SECRET_ACCESS_KEY"))
        }
      })
    }).pipe(Effect.orDie)
  )
