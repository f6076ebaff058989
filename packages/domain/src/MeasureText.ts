/**
 * How the rollout guard's numbers read as text, for the CLI and the web
 * pages alike: a criterion's value or threshold in its unit, and the rounding
 * both use. Only the percent sign differs between them (`0.5%` on a terminal,
 * `0.5 %` on a page), so it is a parameter.
 */

/** `n` to at most `digits` decimals; toFixed then Number drops float noise (0.07 * 100) and trailing zeros (12.50). */
export const decimals = (n: number, digits: number): string => String(Number(n.toFixed(digits)))

/** A criterion's value or threshold in its unit: ratios as percentages, milliseconds as `120 ms`. */
export const measureText = (value: number, unit: string, percentSign: string): string => {
  switch (unit) {
    case "ratio":
      return `${decimals(value * 100, 3)}${percentSign}`
    case "ms":
      return `${decimals(value, 1)} ms`
    case "count":
      return decimals(value, 2)
    default:
      return `${decimals(value, 3)} ${unit}`
  }
}
