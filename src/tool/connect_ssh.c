/*
 * connect_ssh.c: `syncstream connect ssh://[USER@]HOST[:PORT][/COMMAND]`: the
 * URI and the SSH options (--identity, --password-file, --known-hosts,
 * --accept-new-hostkey, --pty) made into a transport, with a sentence, and
 * what to do about it, for every way connecting can fail.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <syncstream.h>

#include "connect.h"
#include "tool.h"

/* The first line of path, without its line ending. *ret is malloc'ed. */
static int read_password(const char *path, char **ret)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -errno;
    char line[1024];
    int rc = fgets(line, sizeof(line), f) ? 0 : -ENODATA;
    fclose(f);
    if (rc == 0) {
        line[strcspn(line, "\r\n")] = '\0';
        *ret = strdup(line);
        rc = *ret ? 0 : -ENOMEM;
    }
    explicit_bzero(line, sizeof(line));
    return rc;
}

/* What to do about a failure, after the sentence saying what it was, into
 * out (n bytes). */
static void hint(int err, const connect_opts *o, const ss_ssh_opts *so, char *out, size_t n)
{
    int port = so->port ? so->port : 22;
    char entry[300], file[300] = "";
    /* known_hosts names a host off port 22 as [host]:port, and so must
     * ssh-keygen -R, or it removes nothing. */
    if (port == 22)
        snprintf(entry, sizeof(entry), "%s", so->host);
    else
        snprintf(entry, sizeof(entry), "[%s]:%d", so->host, port);
    if (o->known_hosts)
        snprintf(file, sizeof(file), " -f '%s'", o->known_hosts);
    switch (err) {
    case SS_EHOSTUNKNOWN:
        snprintf(out, n,
                 "; if this is the right host, --accept-new-hostkey trusts and records "
                 "its key");
        break;
    case SS_EHOSTKEY:
        snprintf(out, n,
                 "; if the host's key really changed, remove the old one with "
                 "ssh-keygen%s -R '%s'",
                 file, entry);
        break;
    case SS_EHOSTREVOKED:
        snprintf(out, n,
                 "; a key is revoked when compromised or retired: ask the host's "
                 "administrator which key it has now");
        break;
    case SS_EAUTH:
        snprintf(out, n, "%s",
                 o->identity || o->password_file
                     ? ""
                     : "; give --identity FILE or --password-file FILE");
        break;
    default:
        snprintf(out, n, "%s", "");
        break;
    }
}

int connect_open_ssh(const connect_opts *o, bool interactive, ss_transport *ret)
{
    ss_ssh_opts so = {
        .identity = o->identity,
        .known_hosts = o->known_hosts,
        .accept_unknown_hostkey = o->accept_new_hostkey,
        /* A session at a terminal gets a remote terminal too, as ssh(1) does. */
        .pty = o->pty || interactive,
        .connect_timeout_ms = o->timeout_ms < 0 ? 10000 : o->timeout_ms,
    };
    char *storage = NULL, *password = NULL;
    int err = ss_ssh_parse_uri(o->uri, &so, &storage);
    if (err == -EINVAL)
        return tool_usage("connect",
                          "connect: cannot use '%s': ssh://[USER@]HOST[:PORT][/COMMAND] "
                          "(a password goes in --password-file, not in the URI)",
                          o->uri);
    if (err < 0)
        return tool_fail("connect: out of memory");
    int rc = TOOL_EXIT_OK;
    if (o->password_file) {
        err = read_password(o->password_file, &password);
        if (err < 0) {
            rc = tool_fail("connect: cannot read a password from %s: %s", o->password_file,
                           err == -ENODATA ? "the file is empty" : ss_strerror(err));
            goto out;
        }
        so.password = password;
    }
    char why[1024] = "", what_to_do[700];
    err = ss_transport_ssh(ret, &so, why, sizeof(why));
    if (err < 0) {
        hint(err, o, &so, what_to_do, sizeof(what_to_do));
        rc = tool_fail("connect: %s: %s%s", o->uri, why[0] ? why : ss_strerror(err), what_to_do);
    }
out:
    if (password) {
        explicit_bzero(password, strlen(password));
        free(password);
    }
    free(storage);
    return rc;
}
