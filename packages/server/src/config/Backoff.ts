import { Duration } from "effect"
import type { HeraldConfigShape } from "./HeraldConfig.ts"

/** The wait before the next try of a send that failed `attempts` times: doubling from `retryBase` up to `retryMax`. */
export const retryDelay = (config: HeraldConfigShape, attempts: number): Duration.Duration =>
  Duration.millis(
    Math.min(Duration.toMillis(config.retryMax), Duration.toMillis(config.retryBase) * 2 ** Math.max(0, attempts - 1))
  )
