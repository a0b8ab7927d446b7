// Whether the server is ready: /readyz answers 503 until the controllers have listed what they
// watch, 200 after. The server's entry point sets it; the HTTP layer only reads it.
import { Context, Effect, Layer, Ref } from "effect"

export class Readiness extends Context.Tag("ark/Readiness")<Readiness, Readiness.Shape>() {}

export declare namespace Readiness {
  export interface Shape {
    readonly isReady: Effect.Effect<boolean>
    readonly setReady: (ready: boolean) => Effect.Effect<void>
  }
}

/** Not ready until told. */
export const layer: Layer.Layer<Readiness> = Layer.effect(
  Readiness,
  Effect.map(Ref.make(false), (ready): Readiness.Shape => ({
    isReady: Ref.get(ready),
    setReady: (value) => Ref.set(ready, value)
  }))
)

/** Call once the controllers are up (have listed their resources). */
export const markReady: Effect.Effect<void, never, Readiness> = Effect.flatMap(
  Readiness,
  (readiness) => readiness.setReady(true)
)
