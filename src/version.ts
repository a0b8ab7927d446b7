// Ark's own version, from package.json: what `ark version` prints and what the server publishes.
import packageJson from "../package.json" with { type: "json" }

export const arkVersion = packageJson.version
