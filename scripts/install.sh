#!/usr/bin/env bash
# `make install` / `make uninstall`. Usage: scripts/install.sh install|uninstall
#
# Variables (the Makefile passes them; the defaults are the Makefile's):
#   DESTDIR     staging root for packaging and tests; empty on a real machine
#   PREFIX      /usr/local          binaries, units, sysusers.d and docs go under it
#   SYSCONFDIR  /etc                idem/ (configuration) and nginx/sites-available/idem
#   BUILD_DIR   .build/install/release   where `make install` built idem and idemctl
#   UNITDIR     systemd units: $PREFIX/lib/systemd/system when PREFIX is /usr or /usr/local
#               (both on systemd's search path), else /etc/systemd/system
#   SYSUSERSDIR sysusers.d: $PREFIX/lib/sysusers.d for /usr and /usr/local, else /etc/sysusers.d
#
# Operator files are never overwritten: $SYSCONFDIR/idem/*.json and the nginx site are
# installed only when missing (the shipped versions are always in the doc directory).
# Without DESTDIR, install also creates the idem user and reloads systemd when it runs.
set -euo pipefail
cd "$(dirname "$0")/.."

action=${1:-}
DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr/local}
SYSCONFDIR=${SYSCONFDIR:-/etc}
BUILD_DIR=${BUILD_DIR:-.build/install/release}
PREFIX=${PREFIX%/}
SYSCONFDIR=${SYSCONFDIR%/}
case "$PREFIX" in
  /usr | /usr/local) default_unitdir=$PREFIX/lib/systemd/system default_sysusersdir=$PREFIX/lib/sysusers.d ;;
  *) default_unitdir=/etc/systemd/system default_sysusersdir=/etc/sysusers.d ;;
esac
UNITDIR=${UNITDIR:-$default_unitdir}
SYSUSERSDIR=${SYSUSERSDIR:-$default_sysusersdir}
bindir=$PREFIX/bin
docdir=$PREFIX/share/doc/idem
confdir=$SYSCONFDIR/idem
site=$SYSCONFDIR/nginx/sites-available/idem
enabled_site=$SYSCONFDIR/nginx/sites-enabled/idem
D=$DESTDIR

say() { echo "idem: $*"; }
die() { echo "idem: $*" >&2; exit 1; }

# The paths end up unquoted in unit files and sed replacements: keep them plain.
for p in "$PREFIX" "$SYSCONFDIR" "$UNITDIR" "$SYSUSERSDIR"; do
  [[ "$p" =~ ^/[A-Za-z0-9._/+-]*$ ]] || die "'$p' must be an absolute path of letters, digits and ._/+-"
done
if [[ -n "$DESTDIR" && "$DESTDIR" != /* ]]; then DESTDIR=$PWD/$DESTDIR D=$DESTDIR; fi
if [[ -z "$DESTDIR" && $(id -u) -ne 0 ]]; then
  die "installing into / needs root: sudo make $action (or set DESTDIR=/some/staging/dir)"
fi

# True when systemd is PID 1 (sd_booted()); false in containers without it and in chroots.
systemd_running() { [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; }

render() { # template, destination, mode
  install -d "$(dirname "$2")"
  sed -e "s|@BINDIR@|$bindir|g" -e "s|@SYSCONFDIR@|$SYSCONFDIR|g" -e "s|@DOCDIR@|$docdir|g" "$1" > "$2.tmp"
  if grep -q '@[A-Z]*@' "$2.tmp"; then rm -f "$2.tmp"; die "unrendered placeholder left in $1"; fi
  chmod "$3" "$2.tmp"
  mv -f "$2.tmp" "$2"
  say "installed $2"
}

install_if_missing() { # source, destination
  if [[ -e "$2" || -L "$2" ]]; then
    say "kept $2 (exists; not overwritten — the shipped version is in $D$docdir)"
  else
    install -D -m 0644 "$1" "$2"
    say "installed $2"
  fi
}

create_user() {
  if getent passwd idem >/dev/null; then
    say "user idem exists"
  elif command -v systemd-sysusers >/dev/null; then
    systemd-sysusers "$SYSUSERSDIR/idem.conf"
    say "created system user idem (systemd-sysusers)"
  else
    useradd --system --user-group --home-dir /var/lib/idem --no-create-home --shell /usr/sbin/nologin \
      --comment "Idem idempotency-key responder" idem
    say "created system user idem (useradd)"
  fi
}

do_install() {
  for b in idem idemctl; do
    [[ -x "$BUILD_DIR/$b" ]] || die "$BUILD_DIR/$b is missing: run \`make install\` (it builds first)"
  done
  for b in idem idemctl; do
    install -D -m 0755 "$BUILD_DIR/$b" "$D$bindir/$b"
    say "installed $D$bindir/$b"
  done

  install -d -m 0755 "$D$confdir"
  for f in config/*.json; do install_if_missing "$f" "$D$confdir/$(basename "$f")"; done
  install_if_missing deploy/nginx-idem.conf "$D$site"

  render deploy/idem.socket "$D$UNITDIR/idem.socket" 0644
  render deploy/idem.service "$D$UNITDIR/idem.service" 0644
  install -D -m 0644 deploy/idem.sysusers "$D$SYSUSERSDIR/idem.conf"
  say "installed $D$SYSUSERSDIR/idem.conf"

  # The docs, plus the shipped configuration and site to compare an edited copy with.
  install -D -m 0644 README.md "$D$docdir/README.md"
  install -D -m 0644 deploy/nginx-idem.conf "$D$docdir/nginx-idem.conf"
  for f in config/*.json; do install -D -m 0644 "$f" "$D$docdir/config/$(basename "$f")"; done
  say "installed $D$docdir/"

  if [[ -n "$DESTDIR" ]]; then
    say "staged into $DESTDIR: no user created, systemd not reloaded"
    return
  fi
  create_user
  if systemd_running; then
    systemctl daemon-reload && say "systemd reloaded" || say "warning: systemctl daemon-reload failed"
  else
    say "systemd is not running here (not PID 1): skipped systemctl daemon-reload"
  fi
  cat <<NEXT
idem: next steps:
  systemctl enable --now idem.socket
  ln -s $site $enabled_site
  nginx -t && systemctl reload nginx
NEXT
}

do_uninstall() {
  if [[ -z "$DESTDIR" ]] && command -v systemctl >/dev/null; then
    if systemd_running; then
      systemctl disable --now idem.socket idem.service 2>/dev/null || true
    else
      systemctl disable idem.socket idem.service 2>/dev/null || true
    fi
  fi
  for f in "$D$bindir/idem" "$D$bindir/idemctl" "$D$UNITDIR/idem.service" "$D$UNITDIR/idem.socket" \
    "$D$SYSUSERSDIR/idem.conf"; do
    if [[ -e "$f" ]]; then rm -f "$f" && say "removed $f"; fi
  done

  # The site goes unless the operator edited it (server_name, TLS from certbot, ...).
  if [[ -e "$D$site" ]]; then
    if cmp -s deploy/nginx-idem.conf "$D$site"; then
      link=$(readlink "$D$enabled_site" 2>/dev/null || true)
      if [[ "$link" == "$site" || "$link" == ../sites-available/idem ]]; then
        rm -f "$D$enabled_site" && say "removed $D$enabled_site"
      fi
      rm -f "$D$site" && say "removed $D$site (reload nginx: nginx -t && systemctl reload nginx)"
    else
      say "kept $D$site: it differs from the shipped file (edited); remove it and its sites-enabled link yourself"
    fi
  fi

  # docdir is PREFIX/share/doc/idem, PREFIX checked above: never / or empty.
  if [[ -d "$D$docdir" ]]; then rm -rf -- "$D$docdir" && say "removed $D$docdir"; fi
  if [[ -z "$DESTDIR" ]] && systemd_running; then systemctl daemon-reload || true; fi
  say "kept $D$confdir (your configuration) and /var/lib/idem (the store and the ledger); the user idem stays."
  say "remove them yourself when you no longer need them: rm -r $confdir /var/lib/idem && userdel idem"
}

case "$action" in
  install) do_install ;;
  uninstall) do_uninstall ;;
  *) die "usage: scripts/install.sh install|uninstall" ;;
esac
