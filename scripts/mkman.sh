#!/usr/bin/env bash
# Writes tollgate.1 and tollgate-CMD.1 for every subcommand into OUTDIR,
# from the binary's own --help text, so the man pages say exactly what
# --help says. Run by the build (CMake target tollgate_man).
#   scripts/mkman.sh BUILD/tollgate OUTDIR
set -euo pipefail
bin=$1 out=$2
mkdir -p "$out"
version=$("$bin" --version | awk '{print $2}')
# "  serve   summary" lines of the "Commands:" block.
commands=$("$bin" --help | awk '/^Commands:/{on=1; next} on && /^  [a-z]+ /{print $1} on && /^$/{exit}')

# roff-escape help text and keep its layout (no filling).
body() {
  echo ".nf"
  sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
  echo ".fi"
}

page() { # NAME SECTION-TITLE SUMMARY HELP-TEXT SEE-ALSO
  local upper
  upper=$(echo "$1" | tr '[:lower:]' '[:upper:]')
  {
    echo ".TH $upper 1 \"\" \"tollgate $version\" \"User Commands\""
    echo ".SH NAME"
    echo "$1 \\- $2"
    echo ".SH DESCRIPTION"
    printf '%s\n' "$3" | body
    echo ".SH SEE ALSO"
    echo "$4"
  } >"$out/$1.1"
}

see_all=$(for c in $commands; do printf '.BR tollgate-%s (1),\n' "$c"; done)
page tollgate "observability for self-hosted LLM inference" "$("$bin" --help)" "${see_all%,}"
for c in $commands; do
  summary=$("$bin" --help | awk -v c="$c" '$1 == c {sub(/^  [a-z]+ +/, ""); print; exit}')
  page "tollgate-$c" "$summary" "$("$bin" "$c" --help)" ".BR tollgate (1)"
done
