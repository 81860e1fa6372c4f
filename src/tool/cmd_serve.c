/*
 * cmd_serve.c: `syncstream serve`, the host-mode line server.
 *
 * Runs an ss_host_server until SIGINT or SIGTERM. The signals are blocked before
 * the server starts (its threads inherit the mask) and taken with sigwait() here,
 * so a stop is an ordinary return: the server is freed, connections closed.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <syncstream.h>

#include "tool.h"

const char cmd_serve_help[] =
    "Usage: " TOOL_NAME " serve [OPTION]...\n"
    "\n"
    "Serve a line buffer over HTTP, wire-compatible with the Python package\n"
    "sync-stream (LineHostBuffer): mirrors on other machines post their output to\n"
    "it, readers fetch it, and a browser shows it live at http://ADDR:PORT/.\n"
    "Our own mirrors (`" TOOL_NAME " send`) batch their lines and deliver each\n"
    "exactly once. The routes are described in docs/host-protocol.md.\n"
    "Runs until SIGINT (Ctrl-C) or SIGTERM.\n"
    "\n"
    "Options:\n"
    "  -l, --listen=ADDR:PORT  where to listen (default 127.0.0.1:5000); an IPv6\n"
    "                          address goes in brackets, [::1]:5000; port 0 picks\n"
    "                          a free port\n"
    "  -r, --route=ROUTE       the buffer's route (default /sync-stream); the state,\n"
    "                          events and health routes are ROUTE-state,\n"
    "                          ROUTE-events and ROUTE-health\n"
    "  -m, --maxlen=N          records kept, the oldest rotate out (default 1000)\n"
    "  -t, --token-file=FILE   require 'Authorization: Bearer TOKEN' (or ?token=)\n"
    "                          on every request; TOKEN is the first line of FILE\n"
    "      --cert=FILE         serve HTTPS with this PEM certificate (chain) ...\n"
    "      --key=FILE          ... and this PEM private key (both or neither)\n"
    "      --max-body=BYTES    largest request body accepted (default 8 MiB); a\n"
    "                          larger one gets 413\n"
    "      --body-budget=BYTES all request bodies held in memory at once (default\n"
    "                          64 MiB, at least --max-body); past it a request gets\n"
    "                          503 with Retry-After and its body is dropped\n"
    "      --max-connections=N at most N connections at once (default 256); half\n"
    "                          of them at most for long-polls and event streams\n"
    "      --store=STORE       where the records live: memory (the default, in this\n"
    "                          process) or redis://HOST[:PORT]/KEY, a Redis stream\n"
    "                          that every server started on the same KEY shares:\n"
    "                          one buffer behind several servers, kept across\n"
    "                          restarts (see docs/host-mode.md). While Redis is\n"
    "                          away, requests get 503 and mirrors retry.\n"
    "      --max-per-ip=N      at most N connections at once from one address\n"
    "                          (default 32; an IPv6 /64 is one address), and once\n"
    "                          half the connections are taken, less than a quarter\n"
    "                          of the free ones; more are closed at once. Without\n"
    "                          this option, loopback clients (127.0.0.0/8, ::1)\n"
    "                          have no per-address limit (only the total)\n"
    "  -h, --help              show this help and exit\n"
    "\n"
    "On start it prints, on standard error, the URL mirrors and readers use:\n"
    "  " TOOL_NAME
    ": serving http://127.0.0.1:5000/sync-stream (web page: http://127.0.0.1:5000/)\n"
    "\n"
    "Exit status: 0 stopped by SIGINT or SIGTERM, 1 the server cannot start (the\n"
    "port is taken, a file cannot be read), 2 usage error.\n"
    "\n"
    "Examples:\n"
    "  " TOOL_NAME " serve --listen 0.0.0.0:5000 --maxlen 10000 --token-file ~/.ss-token\n"
    "  " TOOL_NAME " serve --cert server.pem --key server.key\n"
    "  " TOOL_NAME " serve --listen 0.0.0.0:5000 --store redis://10.0.0.5:6379/jobs\n"
    "  python3 -c 'from syncstream import LineHostMirror; ...'   # any sync-stream mirror\n";

enum {
    OPT_CERT = 256,
    OPT_KEY,
    OPT_MAX_BODY,
    OPT_MAX_CONNECTIONS,
    OPT_MAX_PER_IP,
    OPT_BODY_BUDGET
};

static const struct option long_opts[] = {
    {"listen", required_argument, NULL, 'l'},
    {"route", required_argument, NULL, 'r'},
    {"maxlen", required_argument, NULL, 'm'},
    {"token-file", required_argument, NULL, 't'},
    {"cert", required_argument, NULL, OPT_CERT},
    {"key", required_argument, NULL, OPT_KEY},
    {"max-body", required_argument, NULL, OPT_MAX_BODY},
    {"body-budget", required_argument, NULL, OPT_BODY_BUDGET},
    {"max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS},
    {"store", required_argument, NULL, 's'},
    {"max-per-ip", required_argument, NULL, OPT_MAX_PER_IP},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Why the server did not start, in the user's terms. */
static int start_error(const ss_host_server_opts *o, int err)
{
    const char *listen_addr = o->listen ? o->listen : SS_HOST_DEFAULT_LISTEN;
    switch (err) {
    case -EADDRINUSE:
        return tool_fail("serve: %s is already in use (another server?); pick another port",
                         listen_addr);
    case -EADDRNOTAVAIL:
        return tool_fail("serve: %s is not an address of this machine", listen_addr);
    case -EACCES:
        return tool_fail("serve: cannot listen on %s or read a file given: %s", listen_addr,
                         ss_strerror(err));
    case -ENOTSUP:
        return tool_fail("serve: this libmicrohttpd was built without TLS support");
    case -EPROTO:
        return tool_fail("serve: the HTTP server did not start (is the certificate or key "
                         "valid PEM, and do they match?)");
    case -EINVAL:
        return tool_fail("serve: the token file has no token on its first line");
    default:
        return tool_fail("serve: cannot start: %s", ss_strerror(err));
    }
}

int cmd_serve(int argc, char **argv)
{
    /* The server is this whole process: returning what a big body's decoding
     * freed to the system concerns no one else. */
    ss_host_server_opts o = {.trim_memory = true};
    size_t count;
    int c;

    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":l:r:m:t:h", long_opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            o.listen = optarg;
            break;
        case 'r':
            if (optarg[0] != '/' || strcmp(optarg, "/") == 0)
                return tool_usage("serve",
                                  "serve: --route wants a path like /sync-stream, not "
                                  "'%s'",
                                  optarg);
            o.route = optarg;
            break;
        case 'm':
            /* The line buffer's own bound (2^28 records). */
            if (tool_parse_count(optarg, &o.maxlen) < 0 || o.maxlen == 0 ||
                o.maxlen > ((size_t)1 << 28))
                return tool_usage("serve",
                                  "serve: --maxlen wants an integer from 1 to "
                                  "268435456, not '%s'",
                                  optarg);
            break;
        case 't':
            o.token_file = optarg;
            break;
        case OPT_CERT:
            o.cert_file = optarg;
            break;
        case OPT_KEY:
            o.key_file = optarg;
            break;
        case OPT_MAX_BODY:
            if (tool_parse_count(optarg, &o.max_body) < 0 || o.max_body == 0)
                return tool_usage("serve",
                                  "serve: --max-body wants a positive integer, not "
                                  "'%s'",
                                  optarg);
            break;
        case OPT_BODY_BUDGET:
            if (tool_parse_count(optarg, &o.body_budget) < 0 || o.body_budget == 0)
                return tool_usage("serve",
                                  "serve: --body-budget wants a positive integer, not "
                                  "'%s'",
                                  optarg);
            break;
        case OPT_MAX_CONNECTIONS:
            if (tool_parse_count(optarg, &count) < 0 || count == 0 || count > 100000)
                return tool_usage("serve",
                                  "serve: --max-connections wants an integer from 1 "
                                  "to 100000, not '%s'",
                                  optarg);
            o.max_connections = (unsigned)count;
            break;
        case 's':
            o.store = optarg;
            break;
        case OPT_MAX_PER_IP:
            if (tool_parse_count(optarg, &count) < 0 || count == 0 || count > 100000)
                return tool_usage("serve",
                                  "serve: --max-per-ip wants an integer from 1 to "
                                  "100000, not '%s'",
                                  optarg);
            o.max_per_ip = (unsigned)count;
            break;
        case 'h':
            fputs(cmd_serve_help, stdout);
            return tool_finish_output(TOOL_EXIT_OK);
        default:
            return tool_option_error("serve", argv, c);
        }
    }
    if (optind < argc)
        return tool_usage("serve", "serve: takes no arguments, got '%s'", argv[optind]);
    if (!o.cert_file != !o.key_file)
        return tool_usage("serve", "serve: --cert and --key go together");
    const char *what = NULL;
    if (ss_host_server_check_opts(&o, &what) < 0) {
        if (strcmp(what, "listen") == 0)
            return tool_usage("serve",
                              "serve: --listen wants ADDR:PORT or [ADDR]:PORT with a "
                              "numeric address, not '%s'",
                              o.listen);
        if (strcmp(what, "body_budget") == 0)
            return tool_usage("serve",
                              "serve: --body-budget (%zu) must be at least --max-body "
                              "(%zu): a body that large could never be taken",
                              o.body_budget, o.max_body ? o.max_body : SS_HOST_DEFAULT_MAX_BODY);
        if (strcmp(what, "store") == 0)
            return tool_usage("serve",
                              "serve: --store wants memory or "
                              "redis://HOST[:PORT]/KEY, not '%s'",
                              o.store);
        return tool_usage("serve",
                          "serve: --route wants a path of [A-Za-z0-9/._~-] of at most "
                          "200 bytes, not '%s'",
                          o.route);
    }

    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    ss_host_server *srv;
    int rc = ss_host_server_new(&srv, &o);
    if (rc < 0)
        return start_error(&o, rc);
    const char *listen_addr = o.listen ? o.listen : SS_HOST_DEFAULT_LISTEN;
    const char *colon = strrchr(listen_addr, ':');
    const char *scheme = o.cert_file ? "https" : "http";
    int host_len = (int)(colon - listen_addr);
    fprintf(stderr, TOOL_NAME ": serving %s://%.*s:%u%s (web page: %s://%.*s:%u/)\n", scheme,
            host_len, listen_addr, ss_host_server_port(srv),
            o.route ? o.route : SS_HOST_DEFAULT_ROUTE, scheme, host_len, listen_addr,
            ss_host_server_port(srv));
    fflush(stderr);

    int sig = 0;
    sigwait(&stop_signals, &sig);
    ss_host_server_free(srv);
    fprintf(stderr, TOOL_NAME ": stopped by %s\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    return TOOL_EXIT_OK;
}
