export * from "./HeraldAdminClient.ts"
export * from "./HeraldClient.ts"
export * from "./NotificationSocket.ts"
export * from "./SocketErrors.ts"
