# bash completion for tollgate. Subcommands and options are read from the
# binary's own --help, so they never drift from it.
_tollgate() {
  local cur=${COMP_WORDS[COMP_CWORD]} words
  if [ "$COMP_CWORD" -eq 1 ]; then
    words=$("${COMP_WORDS[0]}" --help 2>/dev/null | awk '/^Commands:/{on=1; next} on && /^  [a-z]+ /{print $1} on && /^$/{exit}')
    COMPREPLY=($(compgen -W "$words help --help --version" -- "$cur"))
  elif [[ $cur == -* ]]; then
    words=$("${COMP_WORDS[0]}" "${COMP_WORDS[1]}" --help 2>/dev/null | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -F _tollgate tollgate
