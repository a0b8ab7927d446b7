// Problems with a namespace mapping as a whole, shared by the CLI (before it creates anything) and
// the restore's validation: two sources onto one target would merge namespaces (objects of the same
// name collide, the last one written wins), and a target that is also a source makes the result
// depend on order (a:b,b:c sends a's objects to b while b's leave it).

/** One line per problem, naming the namespaces; empty when every target is distinct and not a source. */
export const namespaceMappingCollisions = (mapping: Readonly<Record<string, string>>): ReadonlyArray<string> => {
  const sourcesByTarget = new Map<string, Array<string>>()
  for (const [source, target] of Object.entries(mapping)) {
    sourcesByTarget.set(target, [...(sourcesByTarget.get(target) ?? []), source])
  }
  const problems: Array<string> = []
  for (const [target, sources] of sourcesByTarget) {
    if (sources.length > 1) {
      problems.push(`${sources.map((source) => `"${source}"`).join(", ")} are all mapped to "${target}"`)
    }
    // A namespace mapped onto itself is harmless; only another source's target is a chain.
    if (Object.hasOwn(mapping, target) && mapping[target] !== target) {
      problems.push(
        `"${target}" is both a target (of ${sources.map((source) => `"${source}"`).join(", ")}) and mapped to "${
          mapping[target]
        }"`
      )
    }
  }
  return problems
}
