// Effect's metric snapshot → the Prometheus text exposition format 0.0.4, what /metrics serves.
// https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
import type { MetricPair } from "effect"
import { MetricState, Option } from "effect"

export const contentType = "text/plain; version=0.0.4; charset=utf-8"

type MetricType = "counter" | "gauge" | "histogram" | "summary"

interface Family {
  readonly type: MetricType
  readonly help: Option.Option<string>
  /** Label set → the lines of that series; sorted by label set when rendered. */
  readonly series: Array<readonly [string, ReadonlyArray<string>]>
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

type Label = readonly [string, string]

const byKey = <A>([a]: readonly [string, A], [b]: readonly [string, A]) => (a < b ? -1 : a > b ? 1 : 0)

const labelSet = (labels: ReadonlyArray<Label>) =>
  labels.length === 0
    ? ""
    : `{${labels.map(([key, value]) => `${labelName(key)}="${escapeLabelValue(value)}"`).join(",")}}`

const sample = (name: string, labels: ReadonlyArray<Label>, value: number | bigint) =>
  `${name}${labelSet(labels)} ${formatValue(value)}`

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

/**
 * The exposition text of a snapshot: one HELP/TYPE block per metric name, families and series in a
 * stable order. A name seen again with another type is dropped (Prometheus would reject the page).
 */
export const renderPrometheus = (pairs: ReadonlyArray<MetricPair.MetricPair.Untyped>): string => {
  const families = new Map<string, Family>()
  for (const pair of pairs) {
    const name = metricName(pair.metricKey.name)
    const labels = pair.metricKey.tags.map((tag): Label => [tag.key, tag.value])
    const rendered = render(name, labels, pair.metricState)
    if (rendered === undefined) continue
    const family = families.get(name) ?? { type: rendered.type, help: pair.metricKey.description, series: [] }
    if (family.type !== rendered.type) continue
    families.set(name, family)
    family.series.push([labelSet(labels), rendered.lines])
  }
  const lines: Array<string> = []
  for (const [name, family] of [...families].sort(byKey)) {
    if (Option.isSome(family.help)) lines.push(`# HELP ${name} ${escapeHelp(family.help.value)}`)
    lines.push(`# TYPE ${name} ${family.type}`)
    for (const [, seriesLines] of [...family.series].sort(byKey)) lines.push(...seriesLines)
  }
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`
}
