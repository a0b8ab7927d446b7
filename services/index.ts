// The ports of Ark, for programs that embed it: provide a layer for each (see layers/index.ts).
export * from "./BlockStore.ts"
export * from "./BlockStoreProvider.ts"
export * from "./HookRunner.ts"
export * from "./ItemActions.ts"
export * from "./KubeClient.ts"
export * from "./ObjectStore.ts"
export * from "./ObjectStoreProvider.ts"
