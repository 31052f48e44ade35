#!/usr/bin/env bash
# The one test command (README, CI): install, start a throwaway PostgreSQL, lint, type-check, check
# the import contracts, run every test.
# Works on a fresh Debian machine as root (installs PostgreSQL with apt-get when it is missing).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
echo "== installing Parley and its test dependencies"
"$PYTHON" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -e '.[test]'

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
if [ -z "${PARLEY_TEST_POSTGRES_URL:-}" ]; then
  if [ -z "$(pg_bin)" ]; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "PostgreSQL is not installed and this is not root: install the 'postgresql' package," >&2
      echo "or set PARLEY_TEST_POSTGRES_URL to a server you can create databases on." >&2
      exit 1
    fi
    echo "== installing PostgreSQL from Debian packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  fi
  BIN=$(pg_bin)
  PGTMP=$(mktemp -d /tmp/parley-pg.XXXXXX)
  PGPORT=${PARLEY_TEST_PGPORT:-55432}
  RUN=()
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$PGTMP"
    RUN=(runuser -u postgres --)
  fi
  echo "== starting PostgreSQL ($BIN) on 127.0.0.1:$PGPORT"
  "${RUN[@]}" "$BIN/initdb" -D "$PGTMP/data" -A trust -U postgres >"$PGTMP/initdb.log" 2>&1
  "${RUN[@]}" "$BIN/pg_ctl" -D "$PGTMP/data" -l "$PGTMP/server.log" -w \
    -o "-p $PGPORT -k $PGTMP -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
  trap '"${RUN[@]}" "$BIN/pg_ctl" -D "$PGTMP/data" -m immediate stop >/dev/null 2>&1; rm -rf "$PGTMP"' EXIT
  export PARLEY_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$PGPORT/postgres"
fi

# The e-mail tests run a real IMAP server: Dovecot, started by each test with a throwaway config
# (sandbox/emulators/mail.py); the SMTP server is aiosmtpd, a test dependency.
if [ ! -x /usr/sbin/dovecot ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "Dovecot is not installed and this is not root: install the 'dovecot-imapd' package." >&2
    exit 1
  fi
  echo "== installing Dovecot (IMAP server for the e-mail tests) from Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # The package may start a system Dovecot on port 143; the tests start their own on free ports.
  apt-get install -y -qq --no-install-recommends dovecot-imapd >/dev/null
fi

echo "== ruff"
"$PYTHON" -m ruff check .

echo "== mypy"
"$PYTHON" -m mypy

echo "== lint-imports (dependency rules: [tool.importlinter] in pyproject.toml)"
# lint-imports, run by this interpreter: the console script may not be on PATH for a custom $PYTHON.
"$PYTHON" -c 'from importlinter.cli import lint_imports_command; lint_imports_command(prog_name="lint-imports")'

echo "== pytest"
# pytest-xdist: one worker per core (at most 4: each opens its own PostgreSQL database and emulators).
# Most tests wait on loopback HTTP and subprocesses, so two workers on two cores halve the run.
set +e
"$PYTHON" -m pytest -p no:cacheprovider --numprocesses=auto --maxprocesses=4 "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure, not a pass" >&2
  exit 1
fi
exit "$status"
