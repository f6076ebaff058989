/**
 * The notification list of the center: one `<li>` per notification, newest
 * (highest cursor) first, never the same id twice — pages from `listInbox`
 * and live arrivals from the socket both go through `add`, which drops what
 * is already shown.
 */
import type { Cursor, Notification } from "@herald/domain"
import { h } from "../dom.ts"
import { isoTime, kindLabels, relativeTime } from "../format.ts"

interface Entry {
  readonly notification: Notification
  readonly item: HTMLLIElement
  readonly time: HTMLTimeElement
  read: boolean
}

export interface InboxList {
  readonly element: HTMLOListElement
  /** Shows the notifications not shown yet, each at its place in cursor order; returns those that were new. */
  readonly add: (notifications: ReadonlyArray<Notification>) => ReadonlyArray<Notification>
  /** Marks these shown notifications read (the server already did). */
  readonly setRead: (ids: ReadonlyArray<string>) => void
  readonly setAllRead: () => void
  readonly size: () => number
  /** The highest cursor shown, where the socket resumes from. */
  readonly newestCursor: () => Cursor | undefined
  /** Rewrites the "5 minutes ago" texts; called on a timer. */
  readonly refreshTimes: () => void
}

// Only links the domain allows (http(s) or an absolute path) become hrefs; anything else stays text.
const safeLink = (link: string | null): string | undefined =>
  link !== null && /^(https?:\/\/|\/(?!\/))/i.test(link) ? link : undefined

export const makeInboxList = (onMarkRead: (notification: Notification, button: HTMLButtonElement) => void): InboxList => {
  const element = h("ol", { class: "inbox", "aria-label": "Notifications, newest first" })
  const entries = new Map<string, Entry>()
  // Cursors descending, parallel to the `<li>` order, for placing an arrival that is not the newest.
  const order: Array<Entry> = []

  const renderRead = (entry: Entry) => {
    entry.item.classList.toggle("unread", !entry.read)
    const actions = entry.item.querySelector(".item-actions")
    const marker = entry.item.querySelector(".unread-marker")
    if (entry.read) {
      marker?.remove()
      actions?.replaceChildren(h("span", { class: "muted" }, ["Read"]))
    }
  }

  const build = (notification: Notification): Entry => {
    const titleId = `n-${notification.id}-title`
    const href = safeLink(notification.link)
    const time = h("time", { datetime: isoTime(notification.createdAt) }, [relativeTime(notification.createdAt)])
    const read = notification.readAt !== null
    // The visible "Mark read" starts the name (label in name); the title tells a screen reader which one.
    const button = h("button", { type: "button", class: "small", "aria-label": `Mark read: ${notification.title}` }, ["Mark read"])
    const item = h("li", { class: "item", "data-id": notification.id }, [
      h("article", { class: "notification", tabindex: "-1", "aria-labelledby": titleId }, [
        h("div", { class: "item-head" }, [
          h("span", { class: `kind kind-${notification.kind}` }, [kindLabels[notification.kind]]),
          read ? null : h("span", { class: "unread-marker" }, ["Unread"]),
          time
        ]),
        h("div", { class: "item-content" }, [
          h("h3", { id: titleId, class: "item-title" }, [href === undefined ? notification.title : h("a", { href }, [notification.title])]),
          notification.body === null || notification.body === "" ? null : h("p", { class: "item-body" }, [notification.body]),
          notification.actor === null ? null : h("p", { class: "item-actor muted" }, [`From ${notification.actor}`])
        ]),
        h("div", { class: "item-actions" }, [read ? h("span", { class: "muted" }, ["Read"]) : button])
      ])
    ])
    const entry: Entry = { notification, item, time, read }
    button.addEventListener("click", () => onMarkRead(notification, button))
    renderRead(entry)
    return entry
  }

  const place = (entry: Entry) => {
    const index = order.findIndex((other) => other.notification.cursor < entry.notification.cursor)
    const before = index === -1 ? null : order[index]?.item ?? null
    element.insertBefore(entry.item, before)
    if (index === -1) order.push(entry)
    else order.splice(index, 0, entry)
  }

  const setRead = (ids: ReadonlyArray<string>) => {
    for (const id of ids) {
      const entry = entries.get(id)
      if (entry === undefined || entry.read) continue
      entry.read = true
      renderRead(entry)
    }
  }

  return {
    element,
    add: (notifications) => {
      const fresh = notifications.filter((n) => !entries.has(n.id))
      for (const notification of fresh) {
        const entry = build(notification)
        entries.set(notification.id, entry)
        place(entry)
      }
      return fresh
    },
    setRead,
    setAllRead: () => setRead([...entries.keys()]),
    size: () => entries.size,
    newestCursor: () => order[0]?.notification.cursor,
    refreshTimes: () => {
      const now = Date.now()
      for (const entry of order) entry.time.textContent = relativeTime(entry.notification.createdAt, now)
    }
  }
}
