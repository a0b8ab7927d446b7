// Ark as a library: the custom resources' Schemas, the backup and restore programs (Effects over
// the ports in services/), and the server's controllers as one Layer. See examples/embed.ts.
export * from "./api/index.ts"
export type { BackupDeps } from "./backup/run.ts"
export { runBackup } from "./backup/run.ts"
export { defaultRestoreItemActions } from "./restore/actions.ts"
export type { RestoreDeps, RestoreRun } from "./restore/run.ts"
export { executeRestore, runRestore } from "./restore/run.ts"
export type { ControllerOptions, ServerOptions } from "./server/main.ts"
export { controllers, liveServices, runServer } from "./server/main.ts"
