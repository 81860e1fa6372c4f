/*
 * cmd_connect.c: `syncstream connect URI`, drive a TCP socket, a serial port
 * or a local program. Scripted with --send / --expect steps run in order, or
 * a --script FILE (connect_script.c; as expect(1) or pexpect would), or a
 * live session: interactive when stdin is a terminal (as tio or socat), a
 * pipe otherwise (connect_pump.c).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <syncstream.h>

#include "connect.h"
#include "tool.h"

const char cmd_connect_help[] =
    "Usage: " TOOL_NAME " connect [OPTION]... URI\n"
    "  or:  " TOOL_NAME " connect --list\n"
    "\n"
    "Connect to a byte stream and drive it. URI is one of\n"
    "  tcp://HOST:PORT            (an IPv6 address in brackets: tcp://[::1]:23)\n"
    "  serial:PATH[?SETTINGS]     a serial port; SETTINGS are KEY=VALUE joined by '&':\n"
    "                             baud=115200 (any rate, 1 to 100000000:\n"
    "                             250000, 74880...),\n"
    "                             data=5..8, parity=none|even|odd, stop=1|2,\n"
    "                             rtscts=0|1, xonxoff=0|1, reopen=MS (-1: never),\n"
    "                             each at most once; give a path\n"
    "                             under /dev/serial/by-id/ and a USB adapter that is\n"
    "                             pulled and plugged back is reopened\n"
    "  telnet://HOST:PORT         a telnet server (every byte passes unchanged)\n"
    "  rfc2217://HOST:PORT[?SETTINGS]\n"
    "                             a remote serial port (RFC 2217, as ser2net\n"
    "                             serves one); SETTINGS as for serial: but reopen,\n"
    "                             one flow control at most; only those given are\n"
    "                             set, each checked against the server's answer\n"
    "  exec:COMMAND               a local program (sh -c) on a pseudo-terminal\n"
    "  exec-pipe:COMMAND          the same on pipes (its stderr goes to ours)\n"
    "  ssh://[USER@]HOST[:PORT][/COMMAND]\n"
    "                             COMMAND on HOST over SSH (its stderr goes to\n"
    "                             ours); no COMMAND: the login shell. The host key\n"
    "                             must be in known_hosts; login by --identity,\n"
    "                             --password-file, or ssh-agent and ~/.ssh keys\n"
    "\n"
    "With --send and --expect (repeatable, run in the order given), or --script,\n"
    "a script:\n"
    "every byte an expectation consumed is printed on standard output, and the\n"
    "first one not met ends the run with the error payload on standard error\n"
    "(what had arrived and was not matched, and what was not sent; of a part\n"
    "longer than 4 KiB, its first and last 2 KiB). An expectation fails at once\n"
    "when the read buffer (16 MiB) fills without a match. Without them: when\n"
    "standard input is a terminal, an interactive session (Ctrl-] q quits,\n"
    "Ctrl-] ? lists the other keys);\n"
    "otherwise standard input is sent and what arrives is printed, until the\n"
    "stream ends. A serial device that goes away and comes back is said on\n"
    "standard error as it happens.\n"
    "\n"
    "Options:\n"
    "      --send=TEXT       send TEXT; \\n \\r \\t \\e \\\\ and \\xHH are escapes\n"
    "  -e, --expect=TEXT     wait for TEXT (exact bytes, same escapes)\n"
    "  -E, --expect-re=RE    wait for a match of RE (PCRE2); '$' matches only at\n"
    "                        the end of the stream; a match is at most 4 KiB\n"
    "                        long (the search looks back no further)\n"
    "      --script=FILE     run the script in FILE: expect blocks that branch on\n"
    "                        several patterns (\"TEXT\" -> ACTIONS; timeout, eof),\n"
    "                        send, sendline, goto, retry N LABEL, again, wait,\n"
    "                        exit [N], echo; see docs/connect-scripts.md and\n"
    "                        examples/router-login.connect. A bad script is a\n"
    "                        usage error naming FILE:LINE; the script ends with\n"
    "                        its exit status (0, or the one wait took)\n"
    "      --timeout=S       seconds each step may take, and the connection\n"
    "                        (default 10; a fraction is fine; without steps: how\n"
    "                        long to wait for the stream to end after input ends,\n"
    "                        default no limit)\n"
    "  -q, --quiet           do not print what the expectations consumed\n"
    "      --save-payload=FILE  when a step fails, write what was received and\n"
    "                        not matched to FILE (what was not sent to\n"
    "                        FILE.unsent) instead of showing its first and last\n"
    "                        2 KiB on standard error\n"
    "      --send-to=URL     mirror every line the device sends (its stderr's\n"
    "                        flagged) as records to the syncstream server whose\n"
    "                        buffer is at URL, as `" TOOL_NAME " send` does, in a\n"
    "                        script or a session (shared or not); the last\n"
    "                        partial line too, at the end. Lines the server did\n"
    "                        not take within 30 s of the end are printed on\n"
    "                        standard error and the exit status is 1\n"
    "      --source=NAME     the records' source (at most 31 bytes; default: URI,\n"
    "                        cut to 31 bytes)\n"
    "      --send-to-token-file=FILE  send the bearer token in FILE's first line\n"
    "                        to the --send-to server (send's --token-file)\n"
    "      --send-to-cacert=FILE  an https --send-to server: trust the certificate\n"
    "                        authorities in FILE (send's --cacert)\n"
    "      --list            list the serial ports: device, driver and the\n"
    "                        stable /dev/serial/by-id/ names ('-': none)\n"
    "  -h, --help            show this help and exit\n"
    "\n"
    "Session options (without steps):\n"
    "      --escape=KEY      the escape key: X or ^X for Ctrl-X (default ']'). Typed\n"
    "                        in a terminal, it opens a one-key menu: q quits,\n"
    "                        e local echo on/off, h hex view of what arrives\n"
    "                        on/off, ? lists the keys; the escape key again sends\n"
    "                        it to the device; t timestamps on/off; b a BREAK;\n"
    "                        d, r a DTR, RTS pulse (serial ports, rfc2217://)\n"
    "      --timestamps[=iso|delta]  start each line shown (and logged) with its\n"
    "                        time: ISO-8601 UTC (the default), or the seconds\n"
    "                        since the line before\n"
    "      --log=FILE        append what arrives to FILE, as it came (before\n"
    "                        --map), with the timestamps if asked\n"
    "      --log-strip       leave ANSI escape sequences (colours, cursor moves)\n"
    "                        out of the log\n"
    "      --map=MAPS        line-ending maps named as tio names them, joined by\n"
    "                        ',' or repeated; from the device, before it is shown:\n"
    "                        ICRNL (CR as NL), IGNCR (CR dropped), INLCR (NL as\n"
    "                        CR), INLCRNL (NL as CR NL); typed, before it is sent:\n"
    "                        OCRNL (CR, the Enter key, as NL), ONLCRNL (NL as\n"
    "                        CR NL), OIGNCR (CR dropped), ODELBS (DEL, the\n"
    "                        Backspace key, as BS), OLTU (lower case as upper)\n"
    "\n"
    "Sharing the console (a session; see docs/stream-mode.md):\n"
    "      --share=tcp://ADDR:PORT  serve the console to several clients at once\n"
    "                        (as conserver, ser2net): each gets the last lines,\n"
    "                        then what arrives. Use 127.0.0.1 (port 0: a free\n"
    "                        one, said on stderr): any other address lets the\n"
    "                        network see and drive the console. A client attaches\n"
    "                        with `connect tcp://ADDR:PORT`. The end of our\n"
    "                        standard input does not end the session; we always\n"
    "                        write. A client whose unread output passes 1 MiB is\n"
    "                        dropped; the device and the others go on\n"
    "      --share-write=one|all|none  who of the clients writes to the device:\n"
    "                        one (the default): the client attached longest,\n"
    "                        handed on when it leaves; all; none (read-only)\n"
    "      --share-backlog=N  lines a client gets on attaching (default 50)\n"
    "      --token-file=FILE  with --share: a client's first line must be the\n"
    "                        token on FILE's first line (as serve's), or it is\n"
    "                        dropped; with a tcp:// URI: send that line first\n"
    "\n"
    "SSH options (ssh:// only):\n"
    "  -i, --identity=FILE   log in with this private key\n"
    "      --password-file=FILE  log in with the password on FILE's first line\n"
    "      --known-hosts=FILE    check the host key here (default ~/.ssh/known_hosts)\n"
    "      --accept-new-hostkey  trust and record the key of a host not yet known\n"
    "                        (a key that differs from the recorded one, or is\n"
    "                        marked @revoked, is always refused; @cert-authority\n"
    "                        lines are not supported)\n"
    "      --pty             ask for a remote terminal (stderr then comes with\n"
    "                        stdout); an interactive session always gets one\n"
    "\n"
    "Exit status: 0 every expectation met (or the session ended), 1 cannot\n"
    "connect or a transport error, 2 usage error, 4 an expectation timed out or\n"
    "the read buffer filled before it was met, or the stream did not end within\n"
    "--timeout after the input, 5 the stream ended before an expectation was met.\n"
    "A --script that runs 'exit N' exits N; its end, or 'exit' alone, exits 0 or\n"
    "the status its 'wait' took.\n"
    "A session without steps that ends with its program (exec:, exec-pipe:,\n"
    "ssh://) exits with the program's status, as ssh does: its exit code, 128+N\n"
    "when signal N killed it (255 when the SSH server did not say).\n"
    "\n"
    "Examples:\n"
    "  " TOOL_NAME " connect 'serial:/dev/ttyUSB0?baud=115200'\n"
    "  " TOOL_NAME " connect tcp://router:23 -e 'login: ' --send 'admin\\n' -e '# ' \\\n"
    "      --send 'show version\\n' -E 'Version [0-9.]+' --timeout 5\n"
    "  " TOOL_NAME " connect 'exec:python3 -i' -e '>>> ' --send '6*7\\n' -e 42\n"
    "  " TOOL_NAME " connect --script router-login.connect 'serial:/dev/ttyUSB0'\n"
    "  " TOOL_NAME " connect 'serial:/dev/ttyUSB0' --share tcp://127.0.0.1:7000 \\\n"
    "      --send-to http://logs:5000/sync-stream --source board-7 </dev/null\n"
    "  " TOOL_NAME " connect -i ~/.ssh/id_ed25519 'ssh://pi@rack-3/tail -F /var/log/syslog'\n";

/* Long options without a short form. */
enum {
    OPT_PASSWORD_FILE = 256,
    OPT_KNOWN_HOSTS,
    OPT_ACCEPT_NEW_HOSTKEY,
    OPT_PTY,
    OPT_SAVE_PAYLOAD,
    OPT_MAP,
    OPT_ESCAPE,
    OPT_TIMESTAMPS,
    OPT_LOG,
    OPT_LOG_STRIP,
    OPT_LIST,
    OPT_SHARE,
    OPT_SHARE_WRITE,
    OPT_SHARE_BACKLOG,
    OPT_TOKEN_FILE,
    OPT_SCRIPT,
    OPT_SEND_TO,
    OPT_SEND_TO_TOKEN_FILE,
    OPT_SEND_TO_CACERT,
    OPT_SOURCE,
};

static const struct option long_opts[] = {
    {"send", required_argument, NULL, 's'},
    {"expect", required_argument, NULL, 'e'},
    {"expect-re", required_argument, NULL, 'E'},
    {"timeout", required_argument, NULL, 't'},
    {"quiet", no_argument, NULL, 'q'},
    {"save-payload", required_argument, NULL, OPT_SAVE_PAYLOAD},
    {"identity", required_argument, NULL, 'i'},
    {"password-file", required_argument, NULL, OPT_PASSWORD_FILE},
    {"known-hosts", required_argument, NULL, OPT_KNOWN_HOSTS},
    {"accept-new-hostkey", no_argument, NULL, OPT_ACCEPT_NEW_HOSTKEY},
    {"pty", no_argument, NULL, OPT_PTY},
    {"map", required_argument, NULL, OPT_MAP},
    {"escape", required_argument, NULL, OPT_ESCAPE},
    {"timestamps", optional_argument, NULL, OPT_TIMESTAMPS},
    {"log", required_argument, NULL, OPT_LOG},
    {"log-strip", no_argument, NULL, OPT_LOG_STRIP},
    {"list", no_argument, NULL, OPT_LIST},
    {"share", required_argument, NULL, OPT_SHARE},
    {"share-write", required_argument, NULL, OPT_SHARE_WRITE},
    {"share-backlog", required_argument, NULL, OPT_SHARE_BACKLOG},
    {"token-file", required_argument, NULL, OPT_TOKEN_FILE},
    {"script", required_argument, NULL, OPT_SCRIPT},
    {"send-to", required_argument, NULL, OPT_SEND_TO},
    {"send-to-token-file", required_argument, NULL, OPT_SEND_TO_TOKEN_FILE},
    {"send-to-cacert", required_argument, NULL, OPT_SEND_TO_CACERT},
    {"source", required_argument, NULL, OPT_SOURCE},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void free_steps(connect_step *steps, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(steps[i].text);
    free(steps);
}

/* Seconds (a non-negative decimal, at most a day) as milliseconds. */
static int parse_seconds(const char *s, int *ret)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < 0 || v > 86400)
        return -1;
    *ret = (int)(v * 1000 + 0.5);
    return 0;
}

/* The transport of a tcp://, serial: or exec URI, saying what is wrong with
 * a URI that does not parse and which name did not resolve. */
static int open_uri(const connect_opts *o, ss_transport *ret)
{
    char why[640], host[256];
    int err = ss_transport_uri_check(o->uri, host, sizeof(host), why, sizeof(why));
    if (err == -EINVAL)
        return tool_usage("connect", "connect: cannot use '%s': %s", o->uri, why);
    if (err == 0)
        err = ss_transport_open_uri(ret, o->uri, o->timeout_ms < 0 ? 10000 : o->timeout_ms);
    if (err == SS_ENOHOST || err == SS_ERESOLVE)
        return tool_fail("connect: %s: cannot resolve the host name '%s': %s", o->uri, host,
                         ss_strerror(err));
    if (err < 0)
        return tool_fail("connect: %s: %s", o->uri, ss_strerror(err));
    return TOOL_EXIT_OK;
}

int cmd_connect(int argc, char **argv)
{
    connect_opts o = {.timeout_ms = -1, .escape = 0x1d /* Ctrl-], as telnet */};
    size_t cap = 0;
    int c, rc = TOOL_EXIT_OK;
    bool list = false;
    const char *script = NULL;

    opterr = 0;
    optind = 0;
    while ((c = getopt_long(argc, argv, ":e:E:qi:h", long_opts, NULL)) != -1) {
        switch (c) {
        case 's':
        case 'e':
        case 'E': {
            if (o.nsteps == cap) {
                cap = cap ? 2 * cap : 8;
                connect_step *grown = realloc(o.steps, cap * sizeof(*grown));
                if (!grown) {
                    rc = tool_fail("connect: out of memory");
                    goto out;
                }
                o.steps = grown;
            }
            connect_step *st = &o.steps[o.nsteps];
            st->kind = c == 's' ? CONNECT_SEND : c == 'e' ? CONNECT_EXPECT : CONNECT_EXPECT_RE;
            st->arg = optarg;
            if (c == 'E') {
                st->text = strdup(optarg);
                st->len = strlen(optarg);
                if (!st->text) {
                    rc = tool_fail("connect: out of memory");
                    goto out;
                }
            } else if (cs_unescape(optarg, strlen(optarg), false, &st->text, &st->len) < 0) {
                rc = tool_usage("connect",
                                "connect: bad escape in '%s' (use \\n \\r \\t \\e "
                                "\\\\ or \\xHH)",
                                optarg);
                goto out;
            } else if (st->len == 0 && c == 'e') {
                free(st->text);
                rc = tool_usage("connect", "connect: --expect needs a non-empty TEXT");
                goto out;
            }
            o.nsteps++;
            break;
        }
        case 't':
            if (parse_seconds(optarg, &o.timeout_ms) < 0) {
                rc = tool_usage("connect",
                                "connect: --timeout wants seconds (0 to 86400), "
                                "not '%s'",
                                optarg);
                goto out;
            }
            break;
        case 'q':
            o.quiet = true;
            break;
        case OPT_SAVE_PAYLOAD:
            o.save_payload = optarg;
            break;
        case 'i':
            o.identity = optarg;
            break;
        case OPT_PASSWORD_FILE:
            o.password_file = optarg;
            break;
        case OPT_KNOWN_HOSTS:
            o.known_hosts = optarg;
            break;
        case OPT_ACCEPT_NEW_HOSTKEY:
            o.accept_new_hostkey = true;
            break;
        case OPT_PTY:
            o.pty = true;
            break;
        case OPT_ESCAPE: {
            /* X or ^X: Ctrl-X, as picocom's --escape */
            const char *k = optarg[0] == '^' && optarg[1] ? optarg + 1 : optarg;
            int key = k[0] >= 'a' && k[0] <= 'z' ? k[0] - 32 : k[0];
            if (!k[0] || k[1] || key < '@' || key > '_') {
                rc = tool_usage("connect",
                                "connect: --escape '%s': give X or ^X for Ctrl-X, X a letter "
                                "or one of @ [ \\ ] ^ _",
                                optarg);
                goto out;
            }
            o.escape = key - '@';
            break;
        }
        case OPT_TIMESTAMPS:
            if (!optarg || strcmp(optarg, "iso") == 0) {
                o.stamps = CONNECT_TS_ISO;
            } else if (strcmp(optarg, "delta") == 0) {
                o.stamps = CONNECT_TS_DELTA;
            } else {
                rc = tool_usage("connect", "connect: --timestamps is iso or delta, not '%s'",
                                optarg);
                goto out;
            }
            break;
        case OPT_LOG:
            o.log = optarg;
            break;
        case OPT_LOG_STRIP:
            o.log_strip = true;
            break;
        case OPT_LIST:
            list = true;
            break;
        case OPT_SHARE:
            o.share = optarg;
            break;
        case OPT_SHARE_WRITE:
            o.share_write_arg = optarg;
            break;
        case OPT_SHARE_BACKLOG:
            o.share_backlog_arg = optarg;
            break;
        case OPT_TOKEN_FILE:
            o.token_file = optarg;
            break;
        case OPT_SCRIPT:
            script = optarg;
            break;
        case OPT_SEND_TO:
            o.send_to = optarg;
            break;
        case OPT_SEND_TO_TOKEN_FILE:
            o.send_to_host.token_file = optarg;
            break;
        case OPT_SEND_TO_CACERT:
            o.send_to_host.ca_file = optarg;
            break;
        case OPT_SOURCE:
            if (strlen(optarg) >= SS_SOURCE_MAX) {
                rc = tool_usage("connect", "connect: --source holds at most %d bytes",
                                SS_SOURCE_MAX - 1);
                goto out;
            }
            o.source = optarg;
            break;
        case OPT_MAP:
            if (connect_map_parse(optarg, &o.maps) < 0) {
                rc = tool_usage("connect",
                                "connect: --map '%s': known maps are ICRNL, IGNCR, INLCR, "
                                "INLCRNL, OCRNL, ODELBS, OIGNCR, ONLCRNL, OLTU",
                                optarg);
                goto out;
            }
            break;
        case 'h':
            fputs(cmd_connect_help, stdout);
            rc = tool_finish_output(TOOL_EXIT_OK);
            goto out;
        default:
            rc = tool_option_error("connect", argv, c);
            goto out;
        }
    }
    if (list) {
        rc =
            optind == argc ? connect_list() : tool_usage("connect", "connect: --list takes no URI");
        goto out;
    }
    if (optind != argc - 1) {
        if (optind == argc)
            rc = tool_usage("connect", "connect: no URI given");
        else
            rc = tool_usage("connect", "connect: one URI only, got '%s' too", argv[optind + 1]);
        goto out;
    }
    o.uri = argv[optind];

    if (script && o.nsteps) {
        rc = tool_usage("connect", "connect: --script or --send/--expect steps, not both");
        goto out;
    }
    if (script && (rc = connect_script_load(script, &o.script)) != TOOL_EXIT_OK)
        goto out;
    bool scripted = o.nsteps || o.script;
    if ((o.maps || o.stamps || o.log || o.log_strip) && scripted) {
        rc = tool_usage("connect", "connect: --map, --timestamps and --log are for a session, "
                                   "not for a script (--script, --send, --expect)");
        goto out;
    }
    if (o.log_strip && !o.log) {
        rc = tool_usage("connect", "connect: --log-strip goes with --log");
        goto out;
    }
    if ((o.source || o.send_to_host.token_file || o.send_to_host.ca_file) && !o.send_to) {
        rc = tool_usage("connect", "connect: %s goes with --send-to",
                        o.source                    ? "--source"
                        : o.send_to_host.token_file ? "--send-to-token-file"
                                                    : "--send-to-cacert");
        goto out;
    }
    rc = connect_share_check(&o);
    if (rc != TOOL_EXIT_OK)
        goto out;
    bool interactive = isatty(STDIN_FILENO) && !scripted;
    bool ssh = strncmp(o.uri, "ssh://", 6) == 0;
    if (!ssh && (o.identity || o.password_file || o.known_hosts || o.accept_new_hostkey || o.pty)) {
        rc = tool_usage("connect", "connect: the SSH options go with an ssh:// URI only");
        goto out;
    }
    ss_transport t;
    if (ssh) {
        rc = connect_open_ssh(&o, interactive, &t);
        if (rc != TOOL_EXIT_OK)
            goto out;
    } else {
        rc = open_uri(&o, &t);
        if (rc != TOOL_EXIT_OK)
            goto out;
    }
    ss_stream *s;
    int err = ss_stream_new(&s, NULL, &t, NULL);
    if (err < 0) {
        rc = tool_fail("connect: %s: %s", o.uri, ss_strerror(err));
        goto out;
    }
    rc = connect_sink_open(&o.sink, &o);
    /* a session bridges its own events (connect_pump.c) and the lines with them */
    if (rc == TOOL_EXIT_OK && o.sink && scripted &&
        (err = ss_stream_bridge(
             s, &(ss_bridge_opts){.on_line = connect_sink_line, .ctx = o.sink})) < 0)
        rc = tool_fail("connect: %s", ss_strerror(err));
    if (rc == TOOL_EXIT_OK && o.token_file && !o.share)
        rc = connect_share_send_token(s, &o);
    if (rc == TOOL_EXIT_OK)
        rc = scripted ? connect_script(s, &o) : connect_pump(s, &o, interactive);
    /* the stream's end bridges its last partial line; then the mirror closes */
    ss_stream_free(s);
    rc = connect_sink_close(o.sink, rc);

out:
    free_steps(o.steps, o.nsteps);
    cs_free(o.script);
    return rc;
}
