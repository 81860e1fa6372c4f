#!/usr/bin/env bash
# Every short option means one thing across the tool's commands, and the man
# page's one table of them says which (SHORT OPTIONS in syncstream(1)):
#
#   - no letter stands for two long options in the commands' --help;
#   - a command refuses every such letter its --help does not list, so no
#     letter hides a second, undocumented meaning;
#   - the letters commands gave up are refused with the long option to write;
#   - each letter a --help lists is in the man page's table, for that command.
#
#     test_short_options.sh SYNCSTREAM MANPAGE
#
# Each check prints "ok" or "FAIL" with the reason; exits 1 if any failed.
set -u

tool=$1 man=$2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/syncstream-shortopts.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

. "$(dirname "$0")/lib.sh"

# The commands, as given on the command line; "" is syncstream itself.
cmds=("" inspect run serve connect send read stop "file read" "file write")

# "LETTER LONG|COMMAND" for each "  -X, --long..." line of each --help (file
# read and file write share one help).
: >"$tmp/pairs"
for c in "${cmds[@]}"; do
    [ "$c" = "file write" ] && continue
    # shellcheck disable=SC2086 # the words of "file read" are two arguments
    if ! timeout 60 "$tool" $c --help </dev/null >"$tmp/help.out" 2>"$tmp/help.err"; then
        fail "help '$c'" "$(head -c 600 "$tmp/help.err")"
        continue
    fi
    name=${c:-syncstream}
    name=${name%% *}
    sed -nE 's/^ +-([A-Za-z0-9]), --([a-z][a-z0-9-]*).*/\1 \2/p' "$tmp/help.out" |
        sed "s/\$/|$name/" >>"$tmp/pairs"
done
if [ "$(wc -l <"$tmp/pairs")" -ge 20 ]; then pass "short options listed: $(wc -l <"$tmp/pairs")"; else
    fail "help" "only $(wc -l <"$tmp/pairs") short options found in the --help texts"; fi

# One meaning per letter. -n is a count in both of its long forms: head's
# number of lines for the readers, GNU parallel's arguments per job for run.
meanings=$(cut -d'|' -f1 "$tmp/pairs" | sort -u |
    awk '{ m[$1] = m[$1] " --" $2 }
         END { for (l in m) if (l != "n" || m[l] !~ /^( --(lines|max-args))+$/) print l m[l] }' |
    awk 'NF > 2' | sort)
if [ -z "$meanings" ]; then pass "one meaning per letter"; else
    fail "one meaning per letter" "$(echo "$meanings" | sed 's/^/-/' | tr '\n' ';')"; fi

# A letter a command's --help does not list is an unknown option there.
letters=$(cut -d' ' -f1 "$tmp/pairs" | sort -u)
for c in "${cmds[@]}"; do
    name=${c:-syncstream}
    name=${name%% *}
    own=$(grep "|$name\$" "$tmp/pairs" | cut -d' ' -f1 | tr -d '\n')
    bad=
    for l in $letters; do
        case $own in *"$l"*) continue ;; esac
        # shellcheck disable=SC2086
        timeout 60 "$tool" $c "-$l" </dev/null >/dev/null 2>"$tmp/refuse.err"
        st=$?
        if [ "$st" -ne 2 ] || ! grep -q "unknown option '-$l'" "$tmp/refuse.err"; then
            bad="$bad -$l (status $st: $(head -c 200 "$tmp/refuse.err"))"
        fi
    done
    if [ -z "$bad" ]; then pass "'${c:-syncstream}' refuses the letters it does not list"; else
        fail "'${c:-syncstream}' takes letters its --help does not list" "$bad"; fi
done

# The letters given up say which long option they stood for there.
retired() {
    local name=$1 want=$2
    shift 2
    run "$name" 2 "$@" && expect_err "$name" "unknown option '-.*write $want"
}
retired retired_read_j --json read -j http://127.0.0.1:9/x
retired retired_inspect_j --json inspect -j "$tmp/none.ring"
retired retired_run_q --quote run -q -- echo ::: a
retired retired_connect_s --send connect exec:true -s 'x\n'
retired retired_connect_t --timeout connect exec:true -t 5
retired retired_serve_s --store serve -l 127.0.0.1:0 -s memory
retired retired_stop_r --reset stop -r http://127.0.0.1:9/x

# The man page's table: "LETTER LONG|COMMANDS" rows between .TS and .TE.
sed -n '/^\.TS/,/^\.TE/p' "$man" | grep -E '^\\-[A-Za-z0-9]' |
    sed -E 's/\\f[BIR]//g; s/\\//g' |
    awk -F'\t' '{ split($1, o, " "); l = substr(o[1], 2); sub(/^--/, "", $2); sub(/=.*/, "", $2);
                  print l " " $2 "|" $3 }' >"$tmp/table"
if [ -s "$tmp/table" ]; then pass "man page table: $(wc -l <"$tmp/table") rows"; else
    fail "man page table" "no rows found in $man"; fi
missing=
while IFS='|' read -r pair name; do
    row=$(grep -F "$pair|" "$tmp/table" | cut -d'|' -f2)
    [ "$name" != syncstream ] && grep -q "every command" <<<"$row" && continue
    # The command as a word of the list: "file" in "send, file write", not
    # "read" in "file read".
    grep -Eq "(^|, )(and )?$name( |,|\$)" <<<"$row" ||
        missing="$missing -${pair% *} --${pair#* } ($name);"
done <"$tmp/pairs"
if [ -z "$missing" ]; then pass "the man page's table lists every short option"; else
    fail "the man page's table misses" "$missing"; fi

exit $failed
