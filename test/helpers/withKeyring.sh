#!/bin/sh
# Runs a command in a private D-Bus session with an unlocked GNOME Keyring: a real Secret
# Service for the keychain tests (Debian's dbus and gnome-keyring, installed by .ci/run).
# The keyring lives under $HOME, so set HOME to a test directory: the next run unlocks the
# same keyring with the same password.
exec dbus-run-session -- sh -c '
  printf "%s" "${KEYRING_PASSWORD:-test-keyring}" | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1
  exec "$@"' sh "$@"
