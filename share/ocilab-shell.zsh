# ocilab's shell for a learner whose login shell is zsh: zsh's .zshrc for one step of a lab, in the
# session's private directory (ZDOTDIR), removed when the shell ends. The same hooks as
# ocilab-shell.bash: the command line, exit status and times of each command in commands.jsonl, and
# BEGIN and END marks around its output in what util-linux `script` records of the terminal.
# From the environment: OCILAB_SESSION, OCILAB_COMMAND, OCILAB_LAB, OCILAB_STEP_NUMBER, OCILAB_STEPS,
# and OCILAB_ZDOTDIR (where the learner's own .zshrc is).

if [[ -r ${OCILAB_ZDOTDIR:-$HOME}/.zshrc ]]; then
  ZDOTDIR=${OCILAB_ZDOTDIR:-$HOME} source "${OCILAB_ZDOTDIR:-$HOME}/.zshrc"
fi

zmodload zsh/datetime
setopt prompt_subst

. "$OCILAB_SESSION/common.sh"

typeset -gi __ocilab_n=0

# Before a command runs: zsh hands over the line as typed.
__ocilab_preexec() {
  __ocilab_line=$1
  __ocilab_start=$EPOCHREALTIME
  (( __ocilab_n++ ))
  printf '\e]6973;B;%s\a' "$__ocilab_start"
}

# Before each prompt: if a command ran, record it and mark the end of its output.
__ocilab_precmd() {
  local exit_status=$?
  if [[ -n ${__ocilab_line+set} ]]; then
    printf '\e]6973;E;%s\a' "$__ocilab_n"
    printf '{"n":%s,"exit":%s,"start":"%s","end":"%s","line":%s}\n' \
      "$__ocilab_n" "$exit_status" "$__ocilab_start" "$EPOCHREALTIME" "$(__ocilab_json "$__ocilab_line")" >>"$OCILAB_SESSION/commands.jsonl"
    unset __ocilab_line
    __ocilab_status
  fi
  return $exit_status
}

# First in line, so that $? is still the command's status.
preexec_functions=(__ocilab_preexec $preexec_functions)
precmd_functions=(__ocilab_precmd $precmd_functions)
PROMPT='[ocilab $OCILAB_LAB $OCILAB_STEP_NUMBER/$OCILAB_STEPS${__ocilab_state:+ $__ocilab_state}] %~ %# '
__ocilab_status
