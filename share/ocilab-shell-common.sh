# What ocilab's shell does the same in bash and zsh, sourced by ocilab-shell.bash and ocilab-shell.zsh
# from the session directory.

# A string as JSON, for the command records.
__ocilab_json() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\t'/\\t}
  s=${s//$'\r'/\\r}
  s=${s//$'\e'/\\u001b}
  printf '"%s"' "$s"
}

# The step's state for the prompt ("✓ 2/4"); a line of news on stderr when it changes.
__ocilab_status() { __ocilab_state=$("$OCILAB_COMMAND" check --prompt); }
