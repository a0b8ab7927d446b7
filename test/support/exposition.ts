// A strict reader of the Prometheus text exposition format 0.0.4 for tests: it throws on anything
// Prometheus would reject or misread, and on a break of the naming conventions Ark keeps (counters,
// and only counters, end in `_total`; histograms complete and cumulative).
// https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format

export interface ExposedSample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

export interface ExposedFamily {
  readonly type: string
  readonly help: string | undefined
  readonly samples: ReadonlyArray<ExposedSample>
}

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/
const labelPair = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(?:,|$)/
const types = new Set(["counter", "gauge", "histogram", "summary", "untyped"])

const parseValue = (text: string, line: string): number => {
  if (text === "+Inf") return Number.POSITIVE_INFINITY
  if (text === "-Inf") return Number.NEGATIVE_INFINITY
  if (text === "NaN") return Number.NaN
  if (!/^-?[0-9]+(\.[0-9]+)?(e[+-]?[0-9]+)?$/i.test(text)) throw new Error(`not a number: ${line}`)
  return Number(text)
}

const parseLabels = (text: string, line: string): Record<string, string> => {
  const labels: Record<string, string> = {}
  let rest = text
  while (rest !== "") {
    const match = labelPair.exec(rest)
    if (match === null) throw new Error(`malformed labels: ${line}`)
    const [whole, key = "", value = ""] = match
    if (key in labels) throw new Error(`label ${key} twice: ${line}`)
    labels[key] = value.replace(/\\(["\\n])/g, (_, c: string) => (c === "n" ? "\n" : c))
    rest = rest.slice(whole.length)
  }
  return labels
}

/** Which family a sample name belongs to, given the family declared last. */
const belongs = (sample: string, family: string, type: string) =>
  sample === family ||
  (type === "histogram" && [`${family}_bucket`, `${family}_sum`, `${family}_count`].includes(sample)) ||
  (type === "summary" && [`${family}_sum`, `${family}_count`].includes(sample))

const seriesKey = (name: string, labels: Readonly<Record<string, string>>, without?: string) =>
  `${name}${
    JSON.stringify(Object.entries(labels).filter(([key]) => key !== without).sort(([a], [b]) => (a < b ? -1 : 1)))
  }`

const checkHistogram = (name: string, samples: ReadonlyArray<ExposedSample>) => {
  const bySeries = new Map<string, { buckets: Array<[number, number]>; sum?: number; count?: number }>()
  const seriesOf = (sample: ExposedSample) => {
    const key = seriesKey(name, sample.labels, "le")
    const series = bySeries.get(key) ?? { buckets: [] }
    bySeries.set(key, series)
    return series
  }
  for (const sample of samples) {
    const series = seriesOf(sample)
    if (sample.name === `${name}_bucket`) {
      const le = sample.labels["le"]
      if (le === undefined) throw new Error(`${name}: a bucket without le`)
      series.buckets.push([parseValue(le, le), sample.value])
    } else if (sample.name === `${name}_sum`) series.sum = sample.value
    else if (sample.name === `${name}_count`) series.count = sample.value
  }
  for (const [key, series] of bySeries) {
    const last = series.buckets.at(-1)
    if (last === undefined || last[0] !== Number.POSITIVE_INFINITY) throw new Error(`${key}: no le="+Inf" bucket last`)
    if (series.count === undefined || series.sum === undefined) throw new Error(`${key}: no _sum or _count`)
    if (last[1] !== series.count) throw new Error(`${key}: the +Inf bucket is not the count`)
    series.buckets.forEach(([bound, count], i) => {
      const previous = series.buckets[i - 1]
      if (previous !== undefined && (bound <= previous[0] || count < previous[1])) {
        throw new Error(`${key}: buckets not increasing and cumulative at le=${bound}`)
      }
    })
  }
}

/** Every family of a page, by name; throws on the first problem. */
export const parseExposition = (text: string): ReadonlyMap<string, ExposedFamily> => {
  if (text !== "" && !text.endsWith("\n")) throw new Error("the page does not end with a newline")
  const families = new Map<string, { type: string; help: string | undefined; samples: Array<ExposedSample> }>()
  const series = new Set<string>()
  let current: string | undefined
  for (const line of text.split("\n").slice(0, -1)) {
    if (line === "") throw new Error("an empty line")
    const comment = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line)
    if (comment !== null) {
      const [, kind, name = "", rest = ""] = comment
      if (!metricName.test(name)) throw new Error(`bad metric name: ${line}`)
      const family = families.get(name)
      if (family !== undefined && family.samples.length > 0) throw new Error(`${kind} after the samples: ${line}`)
      const entry = family ?? { type: "untyped", help: undefined, samples: [] }
      families.set(name, entry)
      if (kind === "TYPE") {
        if (!types.has(rest)) throw new Error(`unknown type: ${line}`)
        if (family !== undefined && family.type !== "untyped") throw new Error(`TYPE twice: ${line}`)
        entry.type = rest
      } else {
        if (entry.help !== undefined) throw new Error(`HELP twice: ${line}`)
        entry.help = rest
      }
      current = name
      continue
    }
    if (line.startsWith("#")) continue
    const match = sampleLine.exec(line)
    if (match === null) throw new Error(`malformed sample: ${line}`)
    const [, name = "", labelText = "", valueText = ""] = match
    const family = current === undefined ? undefined : families.get(current)
    if (current === undefined || family === undefined || !belongs(name, current, family.type)) {
      throw new Error(`a sample outside its family's block: ${line}`)
    }
    const labels = parseLabels(labelText, line)
    const key = seriesKey(name, labels)
    if (series.has(key)) throw new Error(`a series twice: ${line}`)
    series.add(key)
    family.samples.push({ name, labels, value: parseValue(valueText, line) })
  }
  for (const [name, family] of families) {
    if (family.type === "counter" && !name.endsWith("_total")) {
      throw new Error(`a counter not ending in _total: ${name}`)
    }
    if (family.type !== "counter" && name.endsWith("_total")) {
      throw new Error(`a ${family.type} ending in _total: ${name}`)
    }
    if (family.type === "histogram") checkHistogram(name, family.samples)
  }
  return families
}

/** The value of the one sample of `name` with exactly these labels, or undefined. */
export const valueOf = (
  families: ReadonlyMap<string, ExposedFamily>,
  name: string,
  labels: Readonly<Record<string, string>> = {}
): number | undefined => {
  const wanted = seriesKey(name, labels)
  for (const family of families.values()) {
    const found = family.samples.find((sample) => seriesKey(sample.name, sample.labels) === wanted)
    if (found !== undefined) return found.value
  }
  return undefined
}
