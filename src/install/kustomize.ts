// The part of kustomize that Ark's manifests use, so `ark install` renders manifests/ exactly as
// `kubectl apply -k` would: resources (files and directories), patches (JSON 6902 operations with a
// target) and the namespace transformer. Anything else in a kustomization is refused, never ignored.
import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import { Data, Effect, Either } from "effect"
import { CORE_SCHEMA, loadAll } from "js-yaml"

import type { KubeObject } from "../../services/KubeClient.ts"
import { isRecord } from "../kube/json.ts"
import type { JsonPatchOperation } from "../kube/patch.ts"
import { applyJsonPatch } from "../kube/patch.ts"
import { isNamespaced } from "./resources.ts"

/** A manifest or kustomization that cannot be read or is beyond what install understands. */
export class ManifestError extends Data.TaggedError("ManifestError")<{
  readonly path: string
  readonly message: string
}> {}

interface PatchTarget {
  readonly kind: string
  readonly name: string
}

interface Kustomization {
  readonly resources: ReadonlyArray<string>
  readonly namespace?: string
  readonly patches: ReadonlyArray<{ readonly path: string; readonly target: PatchTarget }>
}

const KUSTOMIZATION_FIELDS = new Set(["apiVersion", "kind", "resources", "namespace", "patches"])

const strings = (value: unknown): value is ReadonlyArray<string> =>
  Array.isArray(value) && value.every((item) => typeof item === "string")

/** Every YAML document of a file, empty ones dropped (a trailing `---`). */
export const parseDocuments = (path: string, text: string): Either.Either<ReadonlyArray<unknown>, ManifestError> =>
  Either.try({
    try: () =>
      loadAll(text, { filename: path, schema: CORE_SCHEMA }).filter((document) =>
        document !== null && document !== undefined
      ),
    catch: (cause) =>
      new ManifestError({ path, message: `not valid YAML: ${cause instanceof Error ? cause.message : String(cause)}` })
  })

const readDocuments = (path: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs.readFileString(path).pipe(
      Effect.mapError((error) => new ManifestError({ path, message: `cannot read: ${error.message}` }))
    )
    return yield* parseDocuments(path, text)
  })

const asKubeObject = (path: string, document: unknown): Either.Either<KubeObject, ManifestError> =>
  isRecord(document) && typeof document["apiVersion"] === "string" && typeof document["kind"] === "string" &&
    isRecord(document["metadata"]) && typeof document["metadata"]["name"] === "string"
    ? Either.right(document as unknown as KubeObject)
    : Either.left(
      new ManifestError({ path, message: "every document must be an object with apiVersion, kind and metadata.name" })
    )

const parseKustomization = (path: string, document: unknown): Either.Either<Kustomization, ManifestError> => {
  const fail = (message: string) => Either.left(new ManifestError({ path, message }))
  if (!isRecord(document)) return fail("not a kustomization")
  const unknown = Object.keys(document).filter((field) => !KUSTOMIZATION_FIELDS.has(field))
  if (unknown.length > 0) return fail(`uses ${unknown.join(", ")}, which ark install does not understand`)
  const resources = document["resources"] ?? []
  if (!strings(resources)) return fail("resources must be a list of paths")
  const namespace = document["namespace"]
  if (namespace !== undefined && typeof namespace !== "string") return fail("namespace must be a string")
  const declared = document["patches"] ?? []
  if (!Array.isArray(declared)) return fail("patches must be a list")
  const patches: Array<Kustomization["patches"][number]> = []
  for (const patch of declared) {
    const target = isRecord(patch) ? patch["target"] : undefined
    if (!isRecord(patch) || typeof patch["path"] !== "string" || !isRecord(target)) {
      return fail("each patch needs a path and a target (ark install applies JSON 6902 patches only)")
    }
    const extra = Object.keys(target).filter((field) => field !== "kind" && field !== "name")
    if (typeof target["kind"] !== "string" || typeof target["name"] !== "string" || extra.length > 0) {
      return fail("a patch target must name exactly a kind and a name")
    }
    patches.push({ path: patch["path"], target: { kind: target["kind"], name: target["name"] } })
  }
  return Either.right({ resources, patches, ...(namespace === undefined ? {} : { namespace }) })
}

const isOperations = (value: unknown): value is ReadonlyArray<JsonPatchOperation> =>
  Array.isArray(value) &&
  value.every((op) => isRecord(op) && typeof op["op"] === "string" && typeof op["path"] === "string")

/**
 * kustomize's namespace transformer: namespaced objects move to `namespace`, Namespace objects are
 * renamed to it, and binding subjects that name one of the rendered ServiceAccounts follow it.
 */
export const setNamespace = (objects: ReadonlyArray<KubeObject>, namespace: string): ReadonlyArray<KubeObject> => {
  const serviceAccounts = new Set(
    objects.filter((object) => object.kind === "ServiceAccount").map((object) =>
      `${object.metadata.namespace ?? ""}/${object.metadata.name ?? ""}`
    )
  )
  const moveSubject = (subject: unknown): unknown =>
    isRecord(subject) && subject["kind"] === "ServiceAccount" &&
      serviceAccounts.has(`${String(subject["namespace"] ?? "")}/${String(subject["name"])}`)
      ? { ...subject, namespace }
      : subject
  return objects.map((object) => {
    const moved: KubeObject = object.apiVersion === "v1" && object.kind === "Namespace"
      ? { ...object, metadata: { ...object.metadata, name: namespace } }
      : isNamespaced(object)
      ? { ...object, metadata: { ...object.metadata, namespace } }
      : object
    const isBinding = object.apiVersion === "rbac.authorization.k8s.io/v1" &&
      (object.kind === "RoleBinding" || object.kind === "ClusterRoleBinding")
    return isBinding && Array.isArray(moved["subjects"])
      ? { ...moved, subjects: moved["subjects"].map((subject: unknown) => moveSubject(subject)) }
      : moved
  })
}

/** The repository of an image reference: `ark` for `ark:0.1.0`, `registry:5000/ark` for `registry:5000/ark@sha256:…`. */
const repository = (image: string): string => {
  const withoutDigest = image.split("@")[0] ?? image
  const colon = withoutDigest.lastIndexOf(":")
  return colon > withoutDigest.lastIndexOf("/") ? withoutDigest.slice(0, colon) : withoutDigest
}

/** kustomize's images transformer: every container running `name` (any tag) runs `image` instead. */
export const setImage = (objects: ReadonlyArray<KubeObject>, name: string, image: string): ReadonlyArray<KubeObject> =>
  objects.map((object) => {
    const spec = object["spec"]
    const template = isRecord(spec) ? spec["template"] : undefined
    const podSpec = isRecord(template) ? template["spec"] : undefined
    if (!isRecord(spec) || !isRecord(template) || !isRecord(podSpec)) return object
    const retag = (containers: unknown) =>
      Array.isArray(containers)
        ? containers.map((container: unknown) =>
          isRecord(container) && typeof container["image"] === "string" && repository(container["image"]) === name
            ? { ...container, image }
            : container
        )
        : containers
    const pod = {
      ...podSpec,
      ...(podSpec["containers"] === undefined ? {} : { containers: retag(podSpec["containers"]) }),
      ...(podSpec["initContainers"] === undefined ? {} : { initContainers: retag(podSpec["initContainers"]) })
    }
    return { ...object, spec: { ...spec, template: { ...template, spec: pod } } }
  })

/** The objects of the kustomization in `directory`, in the order kustomize reads them. */
export const renderKustomization = (
  directory: string
): Effect.Effect<ReadonlyArray<KubeObject>, ManifestError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const file = path.join(directory, "kustomization.yaml")
    const [document] = yield* readDocuments(file)
    const kustomization = yield* parseKustomization(file, document)

    let objects: ReadonlyArray<KubeObject> = []
    for (const resource of kustomization.resources) {
      const resourcePath = path.resolve(directory, resource)
      const info = yield* fs.stat(resourcePath).pipe(
        Effect.mapError((error) => new ManifestError({ path: file, message: `resource ${resource}: ${error.message}` }))
      )
      if (info.type === "Directory") {
        objects = [...objects, ...yield* renderKustomization(resourcePath)]
      } else {
        const documents = yield* readDocuments(resourcePath)
        for (const item of documents) objects = [...objects, yield* asKubeObject(resourcePath, item)]
      }
    }

    for (const patch of kustomization.patches) {
      const patchPath = path.resolve(directory, patch.path)
      const [operations] = yield* readDocuments(patchPath)
      if (!isOperations(operations)) {
        return yield* new ManifestError({ path: patchPath, message: "a patch must be a list of JSON 6902 operations" })
      }
      const matches = (object: KubeObject) =>
        object.kind === patch.target.kind && object.metadata.name === patch.target.name
      if (!objects.some(matches)) {
        return yield* new ManifestError({
          path: file,
          message: `patch ${patch.path} matches no ${patch.target.kind} ${patch.target.name}`
        })
      }
      const patched: Array<KubeObject> = []
      for (const object of objects) {
        if (!matches(object)) {
          patched.push(object)
          continue
        }
        const result = yield* Either.mapLeft(
          applyJsonPatch(object, operations),
          (error) => new ManifestError({ path: patchPath, message: error.message })
        )
        patched.push(result as KubeObject)
      }
      objects = patched
    }

    return kustomization.namespace === undefined ? objects : setNamespace(objects, kustomization.namespace)
  })
