#!/bin/sh
# A manual page (nroff) for one of our programs, made from its own --help text, so the page
# lists exactly the options the binary takes. The DESCRIPTION is the package's long
# description (contrib/deb/NAME.desc, all but its first line).
# Usage: tools/manpage.sh NAME SECTION VERSION DATE HELP-FILE DESC-FILE >NAME.SECTION
set -eu
name=$1 section=$2 version=$3 date=$4 help=$5 desc=$6

awk -v name="$name" -v sec="$section" -v ver="$version" -v date="$date" -v descf="$desc" '
# text for roff: a backslash is \e, a minus \-, and a line may not start with . or '"'"'
function t(s) {
    gsub(/\\/, "\\e", s); gsub(/-/, "\\-", s)
    if (s ~ /^[.'"'"']/) s = "\\&" s
    return s
}
BEGIN {
    up = toupper(name)
    manual = sec == 8 ? "System Administration" : "User Commands"
    getline synopsis < descf
    printf ".TH %s %s \"%s\" \"orion\\-inference %s\" \"%s\"\n", up, sec, date, t(ver), manual
    printf ".SH NAME\n%s \\- %s\n", t(name), t(synopsis)
}
NR == 2 && /^commands: / { cmds = substr($0, 11) }
/^  --[a-z]/ {
    n++; flag[n] = $1; s = $0; sub(/^ *--[a-z-]+ */, "", s); text[n] = s; next
}
/^ +env [A-Z_]+, default: / {
    s = $0; sub(/^ +env /, "", s); v = s; sub(/,.*/, "", v); d = s; sub(/^[^,]*, default: /, "", d)
    env[n] = v; def[n] = d
}
END {
    printf ".SH SYNOPSIS\n.B %s\n[\\fIoptions\\fR]%s\n", t(name), cmds != "" ? " \\fIcommand\\fR" : ""
    print ".SH DESCRIPTION"
    while ((getline line < descf) > 0) {
        sub(/^ /, "", line)
        print line == "." ? ".PP" : t(line)
    }
    if (cmds != "") {
        print ".SH COMMANDS"
        k = split(cmds, c, / *\| */)
        for (i = 1; i <= k; i++) printf ".TP\n.B %s\n", t(c[i])
    }
    print ".SH OPTIONS"
    print "Each option can also be given by the environment variable named with it; an option"
    print "on the command line wins over the environment, which wins over the default."
    for (i = 1; i <= n; i++) {
        printf ".TP\n.B %s\n%s\n", t(flag[i]), t(text[i])
        if (env[i] != "") printf ".br\nEnvironment: \\fB%s\\fR, default: %s\n", env[i], t(def[i])
    }
    if (name ~ /^orion-inference-/) {
        print ".SH FILES"
        printf ".TP\n.I /etc/default/%s\n", t(name)
        printf "Settings as ORION_* variables, read by the systemd unit %s.service.\n", t(name)
        print ".SH EXIT STATUS"
        print "0 after SIGTERM or SIGINT; 100 for a bad setting (the unit is not restarted then);"
        print "111 when Redis cannot be reached at start."
    }
    print ".SH SEE ALSO"
    split("orion-inference-router 8 orion-inference-worker 8 orionctl 1", p, " ")
    for (i = 1; i <= 5; i += 2)
        if (p[i] != name) printf ".BR %s (%s),\n", t(p[i]), p[i + 1]
    printf "/usr/share/doc/%s/\n", t(name)
}' "$help"
