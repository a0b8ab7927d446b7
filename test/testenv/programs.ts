// vitest globalSetup for both projects: the programs the tests drive that come from Debian's
// packages (the shells the completion tests run, `age` for the encryption tests). A fresh machine
// lacks them; as root (or with sudo) they are installed once, otherwise the run fails naming the
// command, since a missing component must never turn into a skipped test.
import { spawnSync } from "node:child_process"

interface Program {
  readonly command: string
  readonly probe: ReadonlyArray<string>
  readonly debianPackage: string
}

export const PROGRAMS: ReadonlyArray<Program> = [
  { command: "zsh", probe: ["-c", "exit 0"], debianPackage: "zsh" },
  { command: "fish", probe: ["-c", "exit 0"], debianPackage: "fish" },
  { command: "age", probe: ["--version"], debianPackage: "age" }
]

const runs = (command: string, args: ReadonlyArray<string>) =>
  spawnSync(command, args, { stdio: "ignore", timeout: 30_000 }).status === 0

const canInstall = () =>
  process.platform === "linux" && runs("sh", ["-c", "command -v apt-get"]) &&
  (process.getuid?.() === 0 || runs("sudo", ["-n", "true"]))

/** apt-get as root, or through sudo; waits for another apt run's lock instead of failing. */
const aptGet = (args: ReadonlyArray<string>) => {
  const command = ["apt-get", "-o", "DPkg::Lock::Timeout=300", ...args]
  const [program, ...rest] = process.getuid?.() === 0 ? command : ["sudo", "-n", ...command]
  return spawnSync(program!, rest, {
    stdio: ["ignore", "ignore", "inherit"],
    timeout: 600_000,
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" }
  }).status === 0
}

export const setup = (): void => {
  const missing = PROGRAMS.filter((p) => !runs(p.command, p.probe))
  if (missing.length === 0) return
  const packages = missing.map((p) => p.debianPackage)
  const install = ["install", "-y", "--no-install-recommends", ...packages]
  if (canInstall()) {
    process.stderr.write(`testenv: installing ${packages.join(", ")} from Debian's packages (first run only)\n`)
    // A machine whose package lists are stale or empty needs an update first.
    if (!aptGet(install) && aptGet(["update"])) aptGet(install)
  }
  const still = missing.filter((p) => !runs(p.command, p.probe))
  if (still.length > 0) {
    throw new Error(
      `the tests drive ${still.map((p) => p.command).join(", ")}, which ${still.length === 1 ? "is" : "are"} ` +
        `not installed: apt-get install -y ${still.map((p) => p.debianPackage).join(" ")}`
    )
  }
}
