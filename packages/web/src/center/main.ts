/**
 * `/`: the notification center as an app would embed it. A bell with the
 * live unread count, the inbox newest first with infinite scroll through
 * the cursor API, mark read / mark all read, and live arrivals over the
 * socket with a visible "Reconnecting…" while it is down.
 *
 * The unread count is moved locally at once (an arrival adds one, a mark
 * read subtracts what the server says it changed) and then reconciled with
 * `unreadCount()` shortly after, and after every reconnect: local arithmetic
 * alone would drift when another tab or device reads notifications.
 */
import { HeraldUserClient, type SocketState } from "@herald/client"
import { Cursor, type Notification } from "@herald/domain"
import { Effect, Option } from "effect"
import { h, replace } from "../dom.ts"
import { startUserPage, type UserApp } from "../userApp.ts"
import { makeBell } from "./bell.ts"
import { makeInboxList } from "./inboxList.ts"
import { liveFeed } from "./liveFeed.ts"

const pageSize = 20
const reconcileDelayMs = 1_000

const stateText: Readonly<Record<SocketState, string>> = {
  connecting: "Connecting…",
  open: "Live",
  reconnecting: "Reconnecting…",
  closed: "Not connected"
}

const render = (app: UserApp, main: HTMLElement) => {
  let unread = 0
  // `undefined` until the first page has loaded; `null` once the oldest page is shown.
  let nextBefore: Cursor | null | undefined
  let loading = false
  let wasDown = false

  const panel = h("div", { id: "inbox-panel", class: "panel" })
  const bell = makeBell(panel)
  const status = h("p", { class: "live-status", role: "status", "aria-live": "polite", "data-state": "connecting" }, [
    stateText.connecting
  ])
  const markAll = h("button", { type: "button" }, ["Mark all read"])
  const loadMore = h("button", { type: "button", class: "load-more", hidden: true }, ["Load more"])
  const end = h("p", { class: "muted end" })
  const sentinel = h("div", { class: "sentinel", "aria-hidden": "true" })

  const setUnread = (count: number) => {
    unread = Math.max(0, count)
    bell.setCount(unread)
    markAll.disabled = unread === 0
  }

  let reconcileTimer: ReturnType<typeof setTimeout> | undefined
  const reconcile = (delayMs: number) => {
    clearTimeout(reconcileTimer)
    reconcileTimer = setTimeout(() => {
      void app.run(HeraldUserClient.use((me) => me.unreadCount())).then(Option.map(setUnread))
    }, delayMs)
  }
  app.onEnd(() => clearTimeout(reconcileTimer))

  const list = makeInboxList((notification, button) => {
    button.disabled = true
    void app.run(HeraldUserClient.use((me) => me.markRead([notification.id]))).then((changed) => {
      button.disabled = false
      if (Option.isNone(changed)) return
      const article = button.closest("article")
      list.setRead([notification.id])
      setUnread(unread - changed.value)
      // The button is gone; keep the keyboard user on the item they were on.
      if (article instanceof HTMLElement) article.focus()
      reconcile(reconcileDelayMs)
    })
  })

  const renderEnd = () => {
    loadMore.hidden = nextBefore === null || nextBefore === undefined
    loadMore.disabled = loading
    loadMore.textContent = loading ? "Loading…" : "Load more"
    end.textContent = nextBefore !== null ? "" : list.size() === 0 ? "No notifications yet." : "That is everything."
  }

  const loadPage = () => {
    if (loading || nextBefore === null) return
    loading = true
    renderEnd()
    const before = nextBefore
    const query = before === undefined ? { limit: pageSize } : { limit: pageSize, before }
    void app.run(HeraldUserClient.use((me) => me.listInbox(query))).then((page) => {
      loading = false
      if (Option.isSome(page)) {
        list.add(page.value.items)
        nextBefore = page.value.nextBefore
      }
      renderEnd()
      // A sentinel that is still in view fires no new intersection: observing it again reports its state now.
      observer.unobserve(sentinel)
      if (nextBefore !== null) observer.observe(sentinel)
    })
  }

  const observer = new IntersectionObserver((entries) => {
    if (entries.some((entry) => entry.isIntersecting) && nextBefore !== undefined) loadPage()
  }, { rootMargin: "200px" })
  app.onEnd(() => observer.disconnect())

  const onArrival = (notification: Notification) => {
    const fresh = list.add([notification])
    if (fresh.length === 0) return
    if (notification.readAt === null) setUnread(unread + 1)
    reconcile(reconcileDelayMs)
    renderEnd()
  }

  const onState = (state: SocketState) => {
    status.textContent = stateText[state]
    status.dataset["state"] = state
    if (state === "reconnecting") wasDown = true
    // The socket's resume fills the list's gap; the count is the server's to say after an outage.
    if (state === "open" && wasDown) {
      wasDown = false
      reconcile(0)
    }
  }

  markAll.addEventListener("click", () => {
    markAll.disabled = true
    void app.run(HeraldUserClient.use((me) => me.markAllRead())).then((changed) => {
      markAll.disabled = false
      if (Option.isNone(changed)) return
      list.setAllRead()
      setUnread(0)
      reconcile(reconcileDelayMs)
    })
  })
  loadMore.addEventListener("click", loadPage)

  replace(panel, [list.element, sentinel, loadMore, end])
  replace(main, [
    h("section", { class: "center", "aria-labelledby": "center-title" }, [
      h("div", { class: "toolbar" }, [bell.element, h("h1", { id: "center-title" }, ["Notifications"])]),
      h("div", { class: "center-bar" }, [status, markAll]),
      panel
    ])
  ])
  setUnread(0)

  const timeTicker = setInterval(list.refreshTimes, 30_000)
  app.onEnd(() => clearInterval(timeTicker))

  void app.run(Effect.gen(function*() {
    const me = yield* HeraldUserClient
    const [page, count] = yield* Effect.all([me.listInbox({ limit: pageSize }), me.unreadCount()], { concurrency: 2 })
    return { page, count }
  })).then((first) => {
    if (Option.isNone(first)) {
      status.textContent = "Not connected"
      return
    }
    list.add(first.value.page.items)
    nextBefore = first.value.page.nextBefore
    setUnread(first.value.count)
    renderEnd()
    if (nextBefore !== null) observer.observe(sentinel)
    app.fork(liveFeed({
      token: app.session.token,
      resumeFrom: list.newestCursor() ?? Cursor.make(0),
      onState,
      onNotification: onArrival
    }))
  })
}

startUserPage(render)
