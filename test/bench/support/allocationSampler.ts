/**
 * Preloaded into the embedded Herald server with `--alloc-profile`
 * (`node --import`). The first SIGUSR2 starts V8's sampling heap profiler,
 * keeping the samples of objects the garbage collector has already taken
 * (`node --heap-prof` keeps only what is alive at exit, and so misses the
 * short-lived garbage a busy server makes per request); the second writes
 * the profile (DevTools' `.heapprofile` format) into `HERALD_ALLOC_PROFILE_DIR`.
 * The bench sends them when its measured window starts and ends.
 */
import { writeFileSync } from "node:fs"
import { Session } from "node:inspector/promises"
import { join } from "node:path"

const dir = process.env["HERALD_ALLOC_PROFILE_DIR"]
if (dir !== undefined) {
  const session = new Session()
  session.connect()
  let sampling = false
  process.on("SIGUSR2", () => {
    if (!sampling) {
      sampling = true
      void session.post("HeapProfiler.startSampling", {
        samplingInterval: 16_384,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true
      })
      return
    }
    void session.post("HeapProfiler.stopSampling").then(({ profile }) =>
      writeFileSync(join(dir, `allocations-${process.pid}.heapprofile`), JSON.stringify(profile))
    )
  })
}
