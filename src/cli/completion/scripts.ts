// The completion scripts `ark completion SHELL` prints: shims that hand the words typed so far to
// `ark __complete` and show what it prints, one candidate a line. A first line `:files` asks the
// shell for its own file completion. Candidates are whole words (`--output=json`); bash replaces
// only the part after its last word break (`=`, `:`), so its shim cuts the rest off.
export type Shell = "bash" | "zsh" | "fish"

/** The hidden command the scripts call; main.ts routes it around the command parser. */
export const completeCommand = "__complete"

const bash = `# ark completion for bash: source <(ark completion bash)
_ark_complete() {
  local line="\${COMP_LINE:0:COMP_POINT}" words candidates candidate
  read -ra words <<< "$line"
  [[ -z $line || $line =~ [[:space:]]$ ]] && words+=("")
  local typed="\${words[\${#words[@]}-1]}"
  local cut=$(( \${#typed} - \${#2} ))
  mapfile -t candidates < <(ark ${completeCommand} "\${words[@]:1}" 2>/dev/null)
  COMPREPLY=()
  if [[ \${candidates[0]} == :files ]]; then
    mapfile -t COMPREPLY < <(compgen -f -- "$2")
    compopt -o filenames 2>/dev/null
    return 0
  fi
  for candidate in "\${candidates[@]}"; do
    COMPREPLY+=("\${candidate:cut}")
  done
  [[ \${#COMPREPLY[@]} -eq 1 && \${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null
  return 0
}
complete -F _ark_complete ark`

const zsh = `#compdef ark
# ark completion for zsh: source <(ark completion zsh), after compinit
_ark() {
  local -a candidates valued plain
  candidates=("\${(@f)$(ark ${completeCommand} "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  if [[ \${candidates[1]} == :files ]]; then
    _files
    return
  fi
  valued=(\${(M)candidates:#*=})
  plain=(\${candidates:#*=})
  (( \${#valued} )) && compadd -Q -S '' -- "\${valued[@]}"
  (( \${#plain} )) && compadd -Q -- "\${plain[@]}"
  return 0
}
compdef _ark ark`

const fish = `# ark completion for fish: ark completion fish | source
function __ark_complete
    set -l words (commandline -opc) (commandline -ct)
    set -l candidates (ark ${completeCommand} $words[2..-1] 2>/dev/null)
    if test "$candidates[1]" = :files
        __fish_complete_path (commandline -ct)
        return
    end
    printf '%s\\n' $candidates
end
complete -c ark -f -a '(__ark_complete)'`

export const completionScript = (shell: Shell): string => shell === "bash" ? bash : shell === "zsh" ? zsh : fish
