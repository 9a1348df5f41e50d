#!/bin/sh
# Refresh the gettext catalogue after changing user-facing text (docs/WELSH.md):
#   scripts/catalogue.sh          extract messages, merge them into the Welsh .po, compile the .mo
# Then translate the new or fuzzy entries in monitor/locale/cy/LC_MESSAGES/socialmon.po and run it
# again; tests/monitor/test_i18n.py fails while any message lacks Welsh or is fuzzy.
set -eu
cd "$(dirname "$0")/.."
pybabel extract -F babel.cfg -k N_ --no-location --sort-output --omit-header \
    -o monitor/locale/socialmon.pot .
pybabel update -i monitor/locale/socialmon.pot -d monitor/locale -D socialmon -l cy \
    --width 100 --ignore-obsolete --ignore-pot-creation-date
pybabel compile -d monitor/locale -D socialmon -l cy --statistics
