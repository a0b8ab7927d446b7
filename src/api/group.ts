// Ark's API group and version, apart from the Schemas in common.ts: `ark version` prints them, and
// a start of `ark` should not build every Schema to do so.
export const group = "ark.heptio.com"
export const version = "v1"
export const apiVersion = "ark.heptio.com/v1"
