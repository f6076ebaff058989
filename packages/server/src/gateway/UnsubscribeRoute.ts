/**
 * `/unsubscribe?t=…`: GET shows what the link does and a button; POST (the
 * button, or a mail client's one-click request) turns that kind's email off
 * through the user's mailbox, so routing sees it from the next notification.
 */
import { kinds } from "@herald/domain"
import { Effect } from "effect"
import { HttpServerRequest, HttpServerResponse } from "effect/http"
import { UserMailbox } from "../mailbox/UserMailbox.ts"
import { Unsubscribe } from "./Unsubscribe.ts"

const kindLabel = {
  mention: "mentions",
  assignment: "assignments",
  status_update: "status updates",
  digest: "your digest"
} as const

const page = (status: number, title: string, body: string) =>
  HttpServerResponse.text(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">` +
      `<title>${title}</title></head><body style="font-family:system-ui;max-width:32rem;margin:3rem auto;padding:0 1rem">` +
      `<h1>${title}</h1>${body}</body></html>`,
    { status, contentType: "text/html; charset=utf-8" }
  )

export const makeUnsubscribeRoute = Effect.gen(function*() {
  const unsubscribe = yield* Unsubscribe
  const mailbox = yield* UserMailbox.client

  return Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const token = new URL(request.url, "http://herald").searchParams.get("t") ?? ""
    const verified = yield* Effect.result(unsubscribe.verify(token))
    if (verified._tag === "Failure") {
      return page(400, "This link does not work", "<p>The unsubscribe link is incomplete or has expired.</p>")
    }
    const { kind, userId } = verified.success
    if (request.method === "GET") {
      return page(
        200,
        `Stop emails about ${kindLabel[kind]}?`,
        `<form method="post" action="/unsubscribe?t=${encodeURIComponent(token)}">` +
          `<button type="submit" name="List-Unsubscribe" value="One-Click">Unsubscribe</button></form>`
      )
    }
    if (request.method !== "POST") return page(405, "Not allowed", "<p>Use the button on the page.</p>")
    const user = mailbox(userId)
    // The digest link turns off email for every kind that goes to the digest.
    const patch = kind === "digest"
      ? user.GetPreferences().pipe(Effect.map((prefs) => ({
        kinds: Object.fromEntries(
          kinds.filter((k) => prefs.kinds[k].email === "digest").map((k) => [k, { email: "off" as const }])
        )
      })))
      : Effect.succeed({ kinds: { [kind]: { email: "off" as const } } })
    const changed = yield* Effect.result(Effect.flatMap(patch, (patch) => user.UpdatePreferences({ patch })))
    return changed._tag === "Success"
      ? page(200, "Unsubscribed", `<p>You will not get emails about ${kindLabel[kind]} any more. You can turn them back on in your preferences.</p>`)
      : page(503, "Please try again", "<p>We could not save that just now.</p>")
  })
})
