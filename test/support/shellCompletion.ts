// Drives the scripts `ark completion bash|zsh|fish` prints in the real shells, with the real `ark`
// entry point on PATH (as `npm link` puts it there), and returns what each shell would offer.
import { execFile, spawn, spawnSync } from "node:child_process"
import { mkdtempSync, symlinkSync } from "node:fs"
import { tmpdir } from "node:os"
import { delimiter, dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const main = fileURLToPath(new URL("../../bin/ark.mjs", import.meta.url))

/** A completion runs `ark` once or twice; on a loaded machine that takes many seconds. */
const deadlineMillis = 150_000

/** A directory holding an `ark` that is bin/ark.mjs, and this Node first on PATH for its shebang. */
const binDir = (() => {
  let dir: string | undefined
  return () => {
    if (dir === undefined) {
      dir = mkdtempSync(join(tmpdir(), "ark-bin-"))
      symlinkSync(main, join(dir, "ark"))
    }
    return dir
  }
})()

const shellEnv = (env: NodeJS.ProcessEnv) => ({
  ...env,
  PATH: [binDir(), dirname(process.execPath), env["PATH"] ?? ""].join(delimiter)
})

/** Fails, naming how to install it, when a program the tests drive is missing. */
const requireProgram = (program: string, probeArgs: ReadonlyArray<string>, debianPackage: string) => {
  const probe = spawnSync(program, probeArgs, { encoding: "utf8" })
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(`${program} is not installed; the completion tests drive it: apt-get install -y ${debianPackage}`)
  }
}

const requireShell = (shell: string) => requireProgram(shell, ["-c", "exit 0"], shell)

/** The lines the shell prints; asynchronous, so a slow run does not block the test runner's worker. */
export interface ShellOptions {
  readonly env?: NodeJS.ProcessEnv
  readonly cwd?: string
}

const run = (shell: string, args: ReadonlyArray<string>, { cwd, env = process.env }: ShellOptions) => {
  requireShell(shell)
  const options = {
    encoding: "utf8" as const,
    timeout: deadlineMillis,
    env: shellEnv(env),
    ...(cwd === undefined ? {} : { cwd })
  }
  return new Promise<ReadonlyArray<string>>((resolve, reject) =>
    execFile(shell, args, options, (error, stdout, stderr) =>
      error === null
        ? resolve(stdout.split("\n").filter((line) => line !== ""))
        : reject(new Error(`${shell} completion did not finish cleanly (${error.message}): ${stderr}`)))
  )
}

/** The characters at which readline starts the word it completes (bash's default COMP_WORDBREAKS). */
const wordBreaks = " \t\n\"'><=;|&(:"

/**
 * What bash offers at the end of `line`: the script is sourced, COMP_LINE/COMP_POINT/COMP_WORDS/
 * COMP_CWORD are set as bash sets them, and the function registered for `ark` is called with the
 * arguments bash passes (the command, readline's word, the previous word). Returns COMPREPLY.
 */
export const bashCompletions = (line: string, options: ShellOptions = {}) => {
  const breakAt = Math.max(...[...wordBreaks].map((char) => line.lastIndexOf(char)))
  const current = line.slice(breakAt + 1)
  // Bash's own split: at spaces, and with each `=` a word of its own.
  const words = line.split(/\s+/).flatMap((word) => word.split(/(=)/)).filter((word, index, all) =>
    word !== "" || index === all.length - 1
  )
  const script = [
    "source <(ark completion bash)",
    `COMP_LINE=${quote(line)}`,
    "COMP_POINT=${#COMP_LINE}",
    `COMP_WORDS=(${words.map(quote).join(" ")})`,
    "COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))",
    "function=$(complete -p ark | sed -E 's/.*-F ([^ ]+).*/\\1/')",
    `"$function" ark ${quote(current)} "\${COMP_WORDS[COMP_CWORD-1]}"`,
    "printf '%s\\n' \"${COMPREPLY[@]}\""
  ].join("\n")
  return run("bash", ["--norc", "--noprofile", "-c", script], options)
}

/**
 * What fish offers for `line`: the script is sourced and fish's own `complete -C` completes the
 * line, as at a prompt. Candidates only (fish prints `candidate<TAB>description`).
 */
export const fishCompletions = (line: string, options: ShellOptions = {}) =>
  run("fish", ["--no-config", "-c", `ark completion fish | source; complete -C ${quote(line)}`], options).then((
    lines
  ) => lines.map((entry) => entry.split("\t")[0] ?? ""))

/**
 * The line an interactive zsh (on a terminal that `script` provides) shows after the script is
 * sourced, `line` is typed and TAB pressed once; `_END_` marks where the cursor ended, so a trailing
 * space shows. The keys that follow the TAB move to the line's start and turn it into a `print`.
 */
export const zshCompletedLine = async (line: string, { cwd, env = process.env }: ShellOptions = {}) => {
  requireShell("zsh")
  requireProgram("script", ["--version"], "bsdutils")
  const keys = [
    // Emacs keys whatever $EDITOR says (npm's scripts may set it to vi): ^A below is beginning-of-line.
    "bindkey -e; autoload -U compinit; compinit -u -D; source <(ark completion zsh)\n",
    `${line}\t_END_\x01print -r -- COMPLETED \n`,
    "exit\n"
  ].join("")
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn("script", ["-qc", "zsh -f -i", "/dev/null"], {
      env: shellEnv(env),
      timeout: deadlineMillis,
      ...(cwd === undefined ? {} : { cwd })
    })
    let stdout = ""
    child.stdout.on("data", (chunk: Buffer) => void (stdout += chunk.toString("utf8")))
    child.on("error", (error) => reject(error))
    child.on(
      "close",
      (status, signal) =>
        status === 0
          ? resolve(stdout)
          : reject(new Error(`zsh did not finish cleanly (${signal ?? status}): ${stdout}`))
    )
    child.stdin.end(keys)
  })
  const completed = output.split(/\r?\n/).find((printed) => printed.startsWith("COMPLETED "))
  if (completed === undefined) throw new Error(`zsh printed no completed line: ${output}`)
  return completed.slice("COMPLETED ".length)
}

const quote = (text: string) => `'${text.replaceAll("'", "'\\''")}'`
