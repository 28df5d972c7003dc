# ocilab's shell: bash's start-up file for one step of a lab, written by ocilab into the session's
# private directory and removed when the shell ends. The learner's own ~/.bashrc comes first; then the
# hooks that record each command line, its exit status and times (commands.jsonl), and mark where its
# output starts and ends in what util-linux `script` records of the terminal (typescript).
# From the environment: OCILAB_SESSION (the session directory), OCILAB_COMMAND (the ocilab that opened
# the shell), OCILAB_LAB, OCILAB_STEP_NUMBER and OCILAB_STEPS (for the prompt).

if [ -r "$HOME/.bashrc" ]; then . "$HOME/.bashrc"; fi

# Every command line gets a history entry of its own, so that each one is seen.
shopt -s cmdhist
HISTCONTROL=
HISTIGNORE=

. "$OCILAB_SESSION/common.sh"

__ocilab_entry() { HISTTIMEFORMAT= builtin history 1; }

# Before each prompt: a history entry newer than the last one seen means a command has just ended.
__ocilab_precmd() {
  local status=$? entry line
  entry=$(__ocilab_entry)
  if [[ -z ${__ocilab_seen-} ]]; then
    # The first prompt: entries up to here came from the history file, not from this session.
    [[ $entry =~ ^[[:space:]]*([0-9]+) ]] && __ocilab_seen=${BASH_REMATCH[1]} || __ocilab_seen=0
  elif [[ $entry =~ ^[[:space:]]*([0-9]+)[*]?[[:space:]][[:space:]](.*)$ ]] && ((BASH_REMATCH[1] > __ocilab_seen)); then
    __ocilab_seen=${BASH_REMATCH[1]}
    line=${BASH_REMATCH[2]}
    printf '\e]6973;E;%s\a' "$__ocilab_seen"
    printf '{"n":%s,"exit":%s,"start":"%s","end":"%s","line":%s}\n' \
      "$__ocilab_seen" "$status" "${__ocilab_start:-}" "$EPOCHREALTIME" "$(__ocilab_json "$line")" >>"$OCILAB_SESSION/commands.jsonl"
    __ocilab_status
  fi
  unset __ocilab_start
  return $status
}

PROMPT_COMMAND="__ocilab_precmd${PROMPT_COMMAND:+; $PROMPT_COMMAND}"
# Shown once a command line is read, before it runs: the start time inside the (invisible) BEGIN mark.
PS0='\e]6973;B;${__ocilab_start:=$EPOCHREALTIME}\a'
PS1='[ocilab $OCILAB_LAB $OCILAB_STEP_NUMBER/$OCILAB_STEPS${__ocilab_state:+ $__ocilab_state}] \w \$ '
__ocilab_status

# History on, in case a ~/.bashrc turned it off: the hooks see commands through it.
set -o history
