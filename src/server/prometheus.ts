// Metric families → the Prometheus text exposition format 0.0.4, what /metrics serves. Families come
// from Effect's metric snapshot (Ark's own metrics) or are built at scrape time (runtimeMetrics.ts).
// https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
import type { MetricPair } from "effect"
import { MetricState, Option } from "effect"

export const contentType = "text/plain; version=0.0.4; charset=utf-8"

export type MetricType = "counter" | "gauge" | "histogram" | "summary"

export type Label = readonly [string, string]

export interface MetricFamily {
  readonly name: string
  readonly type: MetricType
  readonly help: string | undefined
  /** Label set → the sample lines of that series; sorted by label set when rendered. */
  readonly series: ReadonlyArray<readonly [string, ReadonlyArray<string>]>
}

/** Names are `[a-zA-Z_:][a-zA-Z0-9_:]*`; anything else becomes `_`. */
const metricName = (name: string) => name.replace(/[^a-zA-Z0-9_:]/g, "_").replace(/^([0-9])/, "_$1")
const labelName = (name: string) => name.replace(/[^a-zA-Z0-9_]/g, "_").replace(/^([0-9])/, "_$1")

const escapeLabelValue = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, "\\\"").replace(/\n/g, "\\n")
const escapeHelp = (text: string) => text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")

export const formatValue = (value: number | bigint): string => {
  if (typeof value === "bigint") return value.toString()
  if (Number.isNaN(value)) return "NaN"
  if (value === Number.POSITIVE_INFINITY) return "+Inf"
  if (value === Number.NEGATIVE_INFINITY) return "-Inf"
  return String(value)
}

const byKey = <A>([a]: readonly [string, A], [b]: readonly [string, A]) => (a < b ? -1 : a > b ? 1 : 0)

const labelSet = (labels: ReadonlyArray<Label>) =>
  labels.length === 0
    ? ""
    : `{${labels.map(([key, value]) => `${labelName(key)}="${escapeLabelValue(value)}"`).join(",")}}`

const sample = (name: string, labels: ReadonlyArray<Label>, value: number | bigint) =>
  `${name}${labelSet(labels)} ${formatValue(value)}`

/**
 * A family of one-line series (a counter or a gauge) from its values. Names are written as given:
 * these families are built in code, not from user input.
 */
export const simpleFamily = (
  name: string,
  type: "counter" | "gauge",
  help: string,
  values: ReadonlyArray<readonly [ReadonlyArray<Label>, number]>
): MetricFamily => ({
  name,
  type,
  help,
  series: values.map(([labels, value]) => [labelSet(labels), [sample(name, labels, value)]])
})

/** One series' type and sample lines, or undefined for a state this format has no type for. */
const render = (
  name: string,
  labels: ReadonlyArray<Label>,
  state: MetricState.MetricState.Untyped
): { readonly type: MetricType; readonly lines: ReadonlyArray<string> } | undefined => {
  if (MetricState.isCounterState(state)) return { type: "counter", lines: [sample(name, labels, state.count)] }
  if (MetricState.isGaugeState(state)) return { type: "gauge", lines: [sample(name, labels, state.value)] }
  if (MetricState.isHistogramState(state)) {
    // Effect's buckets are cumulative already and end at +Inf; the +Inf bucket must equal the count.
    const buckets = state.buckets.filter(([bound]) => bound !== Number.POSITIVE_INFINITY)
    return {
      type: "histogram",
      lines: [
        ...buckets.map(([bound, count]) => sample(`${name}_bucket`, [...labels, ["le", formatValue(bound)]], count)),
        sample(`${name}_bucket`, [...labels, ["le", "+Inf"]], state.count),
        sample(`${name}_sum`, labels, state.sum),
        sample(`${name}_count`, labels, state.count)
      ]
    }
  }
  if (MetricState.isSummaryState(state)) {
    return {
      type: "summary",
      lines: [
        ...state.quantiles.map(([quantile, value]) =>
          sample(name, [...labels, ["quantile", formatValue(quantile)]], Option.getOrElse(value, () => Number.NaN))
        ),
        sample(`${name}_sum`, labels, state.sum),
        sample(`${name}_count`, labels, state.count)
      ]
    }
  }
  if (MetricState.isFrequencyState(state)) {
    // A frequency counts occurrences per word: one counter series per word.
    const words = [...state.occurrences].sort(byKey)
    return { type: "counter", lines: words.map(([word, count]) => sample(name, [...labels, ["key", word]], count)) }
  }
  return undefined
}

interface Growing extends MetricFamily {
  readonly series: Array<readonly [string, ReadonlyArray<string>]>
}

/** The families of a snapshot: the series of one name together; a name seen again with another type is dropped. */
export const familiesOf = (pairs: ReadonlyArray<MetricPair.MetricPair.Untyped>): ReadonlyArray<MetricFamily> => {
  const families = new Map<string, Growing>()
  for (const pair of pairs) {
    const name = metricName(pair.metricKey.name)
    const labels = pair.metricKey.tags.map((tag): Label => [tag.key, tag.value])
    const rendered = render(name, labels, pair.metricState)
    if (rendered === undefined) continue
    const family: Growing = families.get(name) ??
      { name, type: rendered.type, help: Option.getOrUndefined(pair.metricKey.description), series: [] }
    if (family.type !== rendered.type) continue
    families.set(name, family)
    family.series.push([labelSet(labels), rendered.lines])
  }
  return [...families.values()]
}

/**
 * The exposition text: one HELP/TYPE block per family, families and series in a stable order. A
 * name seen again is dropped (Prometheus would reject the page).
 */
export const renderFamilies = (families: ReadonlyArray<MetricFamily>): string => {
  const byName = new Map<string, MetricFamily>()
  for (const family of families) if (!byName.has(family.name)) byName.set(family.name, family)
  const lines: Array<string> = []
  for (const [name, family] of [...byName].sort(byKey)) {
    if (family.help !== undefined) lines.push(`# HELP ${name} ${escapeHelp(family.help)}`)
    lines.push(`# TYPE ${name} ${family.type}`)
    for (const [, seriesLines] of [...family.series].sort(byKey)) lines.push(...seriesLines)
  }
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`
}

export const renderPrometheus = (pairs: ReadonlyArray<MetricPair.MetricPair.Untyped>): string =>
  renderFamilies(familiesOf(pairs))
