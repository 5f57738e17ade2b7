#!/usr/bin/env bash
# Checks the Debian package scripts/package.sh built (or the .deb given as $1):
#  1. extracted with `dpkg-deb -x` into a fresh directory: every file where it belongs, the
#     binaries run (`cove --version`, `cove man`, `cove completions`), the man page is valid
#     roff, the completions parse, the sandbox helper is found beside cove;
#  2. when run as root with dpkg (and cove not installed already): `dpkg -i`, `cove --version`
#     and `man -w cove` from the installed package, then `dpkg -r cove` removes every file.
# Set COVE_PACKAGE_INSTALL=0 to skip part 2.
set -euo pipefail
cd "$(dirname "$0")/.."

deb=${1:-$(cat target/package/deb-path 2>/dev/null || true)}
if [ -z "$deb" ] || [ ! -f "$deb" ]; then
  echo "package-check.sh: no .deb (run scripts/package.sh first, or pass the path)" >&2
  exit 2
fi
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
fails=0
ok() { printf '  ok   %s\n' "$*"; }
bad() {
  printf '  FAIL %s\n' "$*" >&2
  fails=$((fails + 1))
}
check() { # check DESCRIPTION CMD...
  local what=$1
  shift
  if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "== $deb ($(du -h "$deb" | cut -f1))"

echo "== control"
dpkg-deb -f "$deb" Package Version Architecture Depends | sed 's/^/  /'
[ "$(dpkg-deb -f "$deb" Package)" = cove ] && ok "package name" || bad "package name"
case "$(dpkg-deb -f "$deb" Version)" in
  "$version"*) ok "version $version" ;;
  *) bad "version is not $version" ;;
esac
dpkg-deb -f "$deb" Depends | grep -q libc6 && ok "depends on libc6 (dpkg-shlibdeps)" || bad "no libc6 dependency"

echo "== files (dpkg-deb -x)"
root="$tmp/root"
dpkg-deb -x "$deb" "$root"
expected=(
  usr/bin/cove
  usr/bin/cove-sandbox-helper
  usr/share/man/man1/cove.1.gz
  usr/share/bash-completion/completions/cove
  usr/share/zsh/vendor-completions/_cove
  usr/share/fish/vendor_completions.d/cove.fish
  usr/share/doc/cove/README.md
  usr/share/doc/cove/LICENSE-MIT
  usr/share/doc/cove/LICENSE-APACHE
  usr/share/doc/cove/copyright
  usr/share/doc/cove/examples/config.toml
)
for f in "${expected[@]}"; do
  if [ -f "$root/$f" ] && [ -s "$root/$f" ]; then ok "$f"; else bad "$f missing or empty"; fi
done
for f in usr/bin/cove usr/bin/cove-sandbox-helper; do
  [ -x "$root/$f" ] && ok "$f is executable" || bad "$f is not executable"
  if file "$root/$f" 2>/dev/null | grep -q 'not stripped'; then bad "$f is not stripped"; fi
done
# nothing else, and nothing in a wrong place
unexpected=$(cd "$root" && find . -type f | sed 's|^\./||' | sort | while read -r f; do
  printf '%s\n' "${expected[@]}" | grep -qxF "$f" || echo "$f"
done)
[ -z "$unexpected" ] && ok "no other files" || bad "unexpected files: $unexpected"
cmp -s "$root/usr/share/doc/cove/examples/config.toml" assets/config.toml &&
  ok "example config is assets/config.toml" || bad "example config differs from assets/config.toml"

echo "== the extracted binary"
home="$tmp/home"
mkdir -p "$home" "$tmp/ws"
# a clean environment: no user config, no server
run() { (cd "$tmp/ws" && env -i PATH=/usr/bin:/bin HOME="$home" "$@"); }
cove="$root/usr/bin/cove"
got=$(run "$cove" --version 2>&1) && [ "$got" = "cove $version" ] &&
  ok "cove --version: $got" || bad "cove --version: $got"
run "$cove" man >"$tmp/cove.1" && head -n 5 "$tmp/cove.1" | grep -q '^\.TH cove 1' &&
  ok "cove man starts with .TH" || bad "cove man"
zcat "$root/usr/share/man/man1/cove.1.gz" | cmp -s - "$tmp/cove.1" &&
  ok "packaged man page = cove man" || bad "packaged man page differs from cove man"
for sub in ask trust sandbox completions man; do
  grep -q "^\.SS \"cove $sub\"" "$tmp/cove.1" || bad "man page has no cove $sub"
done
if command -v groff >/dev/null 2>&1; then
  warnings=$(groff -man -ww -z "$tmp/cove.1" 2>&1)
  [ -z "$warnings" ] && ok "groff renders it without warnings" || bad "groff: $warnings"
fi
run "$cove" completions bash | cmp -s - "$root/usr/share/bash-completion/completions/cove" &&
  ok "packaged bash completions = cove completions bash" || bad "bash completions differ"
check "bash completions parse (bash -n)" bash -n "$root/usr/share/bash-completion/completions/cove"
check "bash completions complete subcommands" bash -c "
  source '$root/usr/share/bash-completion/completions/cove'
  COMP_WORDS=(cove tr); COMP_CWORD=1; COMP_LINE='cove tr'; COMP_POINT=7
  _cove cove tr cove; printf '%s\n' \"\${COMPREPLY[@]}\" | grep -qx trust"
if command -v zsh >/dev/null 2>&1; then
  check "zsh completions parse (zsh -n)" zsh -n "$root/usr/share/zsh/vendor-completions/_cove"
fi
if command -v fish >/dev/null 2>&1; then
  check "fish completions parse (fish -n)" fish -n "$root/usr/share/fish/vendor_completions.d/cove.fish"
fi
# the helper beside cove is the one cove starts (a sandbox that cannot be set up here is
# reported by the helper with status 125; a missing helper would fail differently)
out=$(run "$cove" sandbox -- /bin/true 2>&1) && code=0 || code=$?
case "$code" in
  0) ok "cove sandbox -- /bin/true ran through the packaged helper" ;;
  125) ok "cove sandbox: the packaged helper ran and refused here: $out" ;;
  *) bad "cove sandbox -- /bin/true: exit $code: $out" ;;
esac
helper_out=$(run "$root/usr/bin/cove-sandbox-helper" 2>&1) || true
echo "$helper_out" | grep -q "started by cove" && ok "cove-sandbox-helper runs" || bad "cove-sandbox-helper: $helper_out"

echo "== dpkg -i"
if [ "${COVE_PACKAGE_INSTALL:-1}" = 0 ]; then
  echo "  skipped (COVE_PACKAGE_INSTALL=0)"
elif [ "$(id -u)" != 0 ] || ! command -v dpkg >/dev/null 2>&1; then
  echo "  skipped (needs root and dpkg)"
elif dpkg-query -W cove >/dev/null 2>&1; then
  echo "  skipped (a cove package is installed already; not touching it)"
else
  if dpkg -i "$deb" >"$tmp/dpkg.log" 2>&1; then
    ok "dpkg -i"
    got=$(run /usr/bin/cove --version 2>&1) && [ "$got" = "cove $version" ] &&
      ok "installed cove --version: $got" || bad "installed cove --version: $got"
    [ "$(dpkg -L cove | grep -c '^/usr/bin/cove')" = 2 ] && ok "dpkg -L lists both binaries" ||
      bad "dpkg -L: $(dpkg -L cove | tr '\n' ' ')"
    if command -v man >/dev/null 2>&1; then
      if [ -f /usr/share/man/man1/cove.1.gz ]; then
        got=$(man -w cove 2>&1) && [ "$got" = /usr/share/man/man1/cove.1.gz ] &&
          ok "man -w cove: $got" || bad "man -w cove: $got"
      else
        # slim Docker images exclude /usr/share/man from every install (path-exclude in
        # /etc/dpkg/dpkg.cfg.d): the system's choice, not the package's fault
        excl=$(grep -rh '^path-exclude.*/usr/share/man' /etc/dpkg/dpkg.cfg.d 2>/dev/null | head -n 1)
        if [ -n "$excl" ]; then
          echo "  skip man -w cove: this system does not install man pages ($excl)"
        else
          bad "the man page was not installed"
        fi
      fi
    fi
  else
    bad "dpkg -i: $(cat "$tmp/dpkg.log")"
  fi
  if dpkg -r cove >"$tmp/dpkg.log" 2>&1; then
    ok "dpkg -r cove"
    [ ! -e /usr/bin/cove ] && [ ! -e /usr/bin/cove-sandbox-helper ] && [ ! -e /usr/share/man/man1/cove.1.gz ] &&
      ok "removed: no cove files left" || bad "files left after dpkg -r"
  else
    bad "dpkg -r: $(cat "$tmp/dpkg.log")"
  fi
fi

echo
if [ "$fails" = 0 ]; then
  echo "package check passed"
else
  echo "package check: $fails failure(s)" >&2
  exit 1
fi
