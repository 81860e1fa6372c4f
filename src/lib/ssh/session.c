/* Opening an SSH connection: connect, host key, authentication, channel. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <syncstream/common.h>

#include "ssh/ssh_int.h"
#include "util/clock.h"
#include "util/tcp_connect.h"

__attribute__((format(printf, 3, 4))) static void say(char *why, size_t len, const char *fmt, ...)
{
    if (!why || !len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
}

/* 0: the default; negative: no limit, which libssh spells as a long one. */
static int timeout_of(const ss_ssh_opts *o)
{
    return o->connect_timeout_ms > 0    ? o->connect_timeout_ms
           : o->connect_timeout_ms == 0 ? 10000
                                        : 86400000;
}

/* Connect the socket ourselves, so that a failure keeps its errno (libssh
 * would only say so in a sentence), with the same code as the tcp transport. */
static int connect_socket(ss__ssh *s, const ss_ssh_opts *o, char *why, size_t len)
{
    int port = o->port ? o->port : 22;
    char port_text[8];
    snprintf(port_text, sizeof(port_text), "%d", port);
    int fd = ss__tcp_connect(o->host, port_text, timeout_of(o));
    if (fd == SS_ENOHOST || fd == SS_ERESOLVE) {
        say(why, len, "cannot resolve the host name %s: %s", o->host, ss_strerror(fd));
        return fd;
    }
    if (fd < 0) {
        say(why, len, "cannot connect to %s port %d: %s", o->host, port, ss_strerror(fd));
        return fd;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || ssh_options_set(s->session, SSH_OPTIONS_FD, &fd) < 0) {
        close(fd);
        return -ENOMEM;
    }
    s->fd = fd;
    s->fd_ino = st.st_ino;
    return 0;
}

static int set_options(ssh_session session, const ss_ssh_opts *o)
{
    int port = o->port ? o->port : 22;
    int timeout_ms = timeout_of(o);
    long sec = timeout_ms / 1000, usec = (long)(timeout_ms % 1000) * 1000;
    int log = SSH_LOG_NOLOG;
    bool no = false;
    /* Every setting comes from the options: ~/.ssh/config is not read. */
    if (ssh_options_set(session, SSH_OPTIONS_PROCESS_CONFIG, &no) < 0 ||
        ssh_options_set(session, SSH_OPTIONS_LOG_VERBOSITY, &log) < 0 ||
        ssh_options_set(session, SSH_OPTIONS_HOST, o->host) < 0 ||
        ssh_options_set(session, SSH_OPTIONS_PORT, &port) < 0 ||
        ssh_options_set(session, SSH_OPTIONS_TIMEOUT, &sec) < 0 ||
        ssh_options_set(session, SSH_OPTIONS_TIMEOUT_USEC, &usec) < 0)
        return -EINVAL;
    if (o->user && ssh_options_set(session, SSH_OPTIONS_USER, o->user) < 0)
        return -EINVAL;
    if (o->known_hosts && ssh_options_set(session, SSH_OPTIONS_KNOWNHOSTS, o->known_hosts) < 0)
        return -EINVAL;
    return 0;
}

/* "host", or "[host]:port" off port 22: as known_hosts and ssh-keygen -R
 * name it, so that a message says which entry is meant. */
static void host_label(const ss_ssh_opts *o, char *out, size_t n)
{
    int port = o->port ? o->port : 22;
    if (port == 22)
        snprintf(out, n, "%s", o->host);
    else
        snprintf(out, n, "[%s]:%d", o->host, port);
}

/* The server's key as known_hosts writes it (type, base64) and its SHA256
 * fingerprint, for the marker check and for messages. */
typedef struct host_key {
    const char *type;
    char *b64;
    char *fingerprint;
} host_key;

static int get_host_key(ssh_session session, host_key *k)
{
    ssh_key key = NULL;
    unsigned char *hash = NULL;
    size_t hlen = 0;
    int rc = -EIO;
    if (ssh_get_server_publickey(session, &key) != SSH_OK)
        return rc;
    k->type = ssh_key_type_to_char(ssh_key_type(key));
    if (k->type && ssh_pki_export_pubkey_base64(key, &k->b64) == SSH_OK &&
        ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == 0) {
        k->fingerprint = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
        rc = k->fingerprint ? 0 : -ENOMEM;
    }
    ssh_clean_pubkey_hash(&hash);
    ssh_key_free(key);
    return rc;
}

static void free_host_key(host_key *k)
{
    ssh_string_free_char(k->b64);
    ssh_string_free_char(k->fingerprint);
}

/* The marker lines of the user's and the system's known_hosts (libssh 0.10
 * skips them: without this a revoked key would pass, or be recorded as
 * trusted). ret_file gets the user's file, expanded. */
static int read_marks(ssh_session session, const ss_ssh_opts *o, const host_key *k, ss__kh_marks *m,
                      char *ret_file, size_t file_len, char *why, size_t len)
{
    static const enum ssh_options_e which[] = {SSH_OPTIONS_KNOWNHOSTS,
                                               SSH_OPTIONS_GLOBAL_KNOWNHOSTS};
    snprintf(ret_file, file_len, "%s", o->known_hosts ? o->known_hosts : "~/.ssh/known_hosts");
    for (size_t i = 0; i < 2; i++) {
        char *path = NULL;
        if (ssh_options_get(session, which[i], &path) != SSH_OK || !path)
            continue;
        if (i == 0)
            snprintf(ret_file, file_len, "%s", path);
        int rc = ss__known_hosts_marks(path, k->type, k->b64, m);
        if (rc < 0)
            say(why, len, "cannot read %s to check the host key: %s", path, ss_strerror(rc));
        ssh_string_free_char(path);
        if (rc < 0)
            return -EIO;
    }
    return 0;
}

static int verify_host(ssh_session session, const ss_ssh_opts *o, char *why, size_t len)
{
    char host[300], file[256];
    host_key k = {0};
    ss__kh_marks m = {0};
    host_label(o, host, sizeof(host));
    int rc = get_host_key(session, &k);
    if (rc < 0) {
        say(why, len, "cannot read the host key of %s: %s", host, ssh_get_error(session));
        goto out;
    }
    rc = read_marks(session, o, &k, &m, file, sizeof(file), why, len);
    if (rc < 0)
        goto out;
    if (m.revoked_line) {
        /* Before anything else: whatever other line lists the key, and
         * whatever the options, a revoked key is never accepted or recorded. */
        say(why, len,
            "REVOKED HOST KEY DETECTED: the host key of %s (%s %s) is marked @revoked in %s "
            "line %d; not connecting",
            host, k.type, k.fingerprint, m.revoked_file, m.revoked_line);
        rc = SS_EHOSTREVOKED;
        goto out;
    }
    switch (ssh_session_is_known_server(session)) {
    case SSH_KNOWN_HOSTS_OK:
        rc = 0;
        break;
    case SSH_KNOWN_HOSTS_CHANGED:
    case SSH_KNOWN_HOSTS_OTHER:
        /* Never accepted, whatever the options: this is what an impostor looks like. */
        say(why, len, "the host key of %s (%s %s) differs from the one recorded in %s", host,
            k.type, k.fingerprint, file);
        rc = SS_EHOSTKEY;
        break;
    case SSH_KNOWN_HOSTS_UNKNOWN:
    case SSH_KNOWN_HOSTS_NOT_FOUND:
        if (!o->accept_unknown_hostkey) {
            char ca[400] = "";
            if (m.ca_line)
                snprintf(ca, sizeof(ca),
                         "; the @cert-authority line of %s line %d is not used: host "
                         "certificates are not supported, list the host's own key",
                         m.ca_file, m.ca_line);
            say(why, len,
                "the host key of %s (%s %s) is not in %s (accept it explicitly to "
                "record it)%s",
                host, k.type, k.fingerprint, file, ca);
            rc = SS_EHOSTUNKNOWN;
            break;
        }
        rc = 0;
        if (ssh_session_update_known_hosts(session) != SSH_OK) {
            say(why, len, "cannot record the host key in %s: %s", file, ssh_get_error(session));
            rc = -EIO;
        }
        break;
    case SSH_KNOWN_HOSTS_ERROR:
    default:
        say(why, len, "cannot check the host key against %s: %s", file, ssh_get_error(session));
        rc = -EIO;
        break;
    }
out:
    free_host_key(&k);
    return rc;
}

static void add_word(char *list, size_t size, const char *word)
{
    size_t used = strlen(list);
    snprintf(list + used, size - used, "%s", word);
}

static int authenticate(ssh_session session, const ss_ssh_opts *o, char *why, size_t len)
{
    int rc = SSH_AUTH_DENIED;
    char tried[128] = "";
    if (o->identity) {
        ssh_key key = NULL;
        if (ssh_pki_import_privkey_file(o->identity, o->passphrase, NULL, NULL, &key) != SSH_OK) {
            say(why, len,
                "cannot read the private key %s (missing, unreadable or wrong passphrase)",
                o->identity);
            return -ENOENT;
        }
        rc = ssh_userauth_publickey(session, NULL, key);
        ssh_key_free(key);
        add_word(tried, sizeof(tried), " key");
    }
    if (rc != SSH_AUTH_SUCCESS && rc != SSH_AUTH_ERROR && o->password) {
        rc = ssh_userauth_password(session, NULL, o->password);
        add_word(tried, sizeof(tried), " password");
    }
    if (rc != SSH_AUTH_SUCCESS && rc != SSH_AUTH_ERROR &&
        (o->use_agent || (!o->identity && !o->password))) {
        /* ssh-agent first, then the default keys in ~/.ssh. */
        rc = ssh_userauth_publickey_auto(session, NULL, o->passphrase);
        add_word(tried, sizeof(tried), " agent/default-keys");
    }
    if (rc == SSH_AUTH_SUCCESS)
        return 0;
    if (rc == SSH_AUTH_ERROR) {
        say(why, len, "the connection broke during authentication: %s", ssh_get_error(session));
        return SS_ECONNLOST;
    }
    int methods = ssh_userauth_list(session, NULL);
    say(why, len, "authentication as %s failed (tried:%s; the server accepts:%s%s%s)",
        o->user ? o->user : "the current user", tried,
        methods & SSH_AUTH_METHOD_PUBLICKEY ? " publickey" : "",
        methods & SSH_AUTH_METHOD_PASSWORD ? " password" : "",
        methods & SSH_AUTH_METHOD_INTERACTIVE ? " keyboard-interactive" : "");
    return SS_EAUTH;
}

/* libssh hands each decoded data packet here: stage what fits, leave the rest
 * in libssh (which then stops widening the window). */
static int on_data(ssh_session session, ssh_channel channel, void *data, uint32_t len,
                   int is_stderr, void *userdata)
{
    ss__ssh *s = userdata;
    ss__buf *b = is_stderr ? &s->err : &s->out;
    size_t room = b->cap - b->len;
    size_t take = len < room ? len : room;
    if (take && ss__buf_append(b, data, take) != 0)
        return 0;
    return (int)take;
}

static void on_close(ssh_session session, ssh_channel channel, void *userdata)
{
    /* No status can come after the close. */
    ((ss__ssh *)userdata)->exited = true;
}

static void on_exit_status(ssh_session session, ssh_channel channel, int status, void *userdata)
{
    ss__ssh *s = userdata;
    s->exit_info.status = status;
    s->exited = true;
}

static void on_exit_signal(ssh_session session, ssh_channel channel, const char *signal, int core,
                           const char *errmsg, const char *lang, void *userdata)
{
    ss__ssh *s = userdata;
    s->exit_info.status = -1;
    snprintf(s->exit_info.signal, sizeof(s->exit_info.signal), "%s", signal ? signal : "");
    s->exited = true;
}

static int start_command(ss__ssh *s, const ss_ssh_opts *o, char *why, size_t len)
{
    s->channel = ssh_channel_new(s->session);
    if (!s->channel)
        return -ENOMEM;
    if (ssh_channel_open_session(s->channel) != SSH_OK) {
        say(why, len, "the server refused a session channel: %s", ssh_get_error(s->session));
        return -EIO;
    }
    s->callbacks = (struct ssh_channel_callbacks_struct){
        .userdata = s,
        .channel_data_function = on_data,
        .channel_close_function = on_close,
        .channel_exit_status_function = on_exit_status,
        .channel_exit_signal_function = on_exit_signal,
    };
    ssh_callbacks_init(&s->callbacks);
    if (ssh_set_channel_callbacks(s->channel, &s->callbacks) != SSH_OK)
        return -ENOMEM;
    if (o->pty && ssh_channel_request_pty_size(s->channel, "xterm", 80, 24) != SSH_OK) {
        say(why, len, "the server refused a pseudo-terminal: %s", ssh_get_error(s->session));
        return -EIO;
    }
    bool shell = !o->command || !o->command[0];
    int rc = shell ? ssh_channel_request_shell(s->channel)
                   : ssh_channel_request_exec(s->channel, o->command);
    if (rc != SSH_OK) {
        say(why, len, "the server refused to start %s: %s", shell ? "a login shell" : "the command",
            ssh_get_error(s->session));
        return -EIO;
    }
    return 0;
}

int ss__ssh_open(ss__ssh **ret, const ss_ssh_opts *o, char *why, size_t why_len)
{
    say(why, why_len, "%s", "");
    if (!ret || !o || !o->host || !o->host[0] || o->port < 0 || o->port > 65535) {
        say(why, why_len, "no host, or a port outside 1..65535");
        return -EINVAL;
    }
    ss__ssh *s = calloc(1, sizeof(*s));
    if (!s)
        return -ENOMEM;
    s->fd = -1;
    ss__buf_init(&s->out, SS__SSH_STAGE_CAP);
    ss__buf_init(&s->err, SS__SSH_STAGE_CAP);
    s->exit_info.status = -1;
    s->keepalive_ms = o->keepalive_interval_ms ? o->keepalive_interval_ms : 15000;
    s->keepalive_max = o->keepalive_count_max > 0 ? o->keepalive_count_max : 3;

    int rc = -ENOMEM;
    s->session = ssh_new();
    if (!s->session)
        goto fail;
    rc = set_options(s->session, o);
    if (rc < 0) {
        say(why, why_len, "invalid host, port, user or known_hosts path");
        goto fail;
    }
    ssh_set_counters(s->session, &s->received, NULL);
    rc = connect_socket(s, o, why, why_len);
    if (rc < 0)
        goto fail;
    if (ssh_connect(s->session) != SSH_OK) {
        const char *msg = ssh_get_error(s->session);
        rc = strstr(msg, "imeout") ? -ETIMEDOUT : SS_ECONNLOST;
        say(why, why_len, "no SSH handshake with %s: %s", o->host, msg);
        goto fail;
    }
    rc = verify_host(s->session, o, why, why_len);
    if (rc < 0)
        goto fail;
    rc = authenticate(s->session, o, why, why_len);
    if (rc < 0)
        goto fail;
    rc = start_command(s, o, why, why_len);
    if (rc < 0)
        goto fail;

    /* From here on every call returns at once; the caller's poll does the waiting. */
    ssh_set_blocking(s->session, 0);
    s->event = ssh_event_new();
    if (!s->event || ssh_event_add_session(s->event, s->session) != SSH_OK) {
        rc = -ENOMEM;
        goto fail;
    }
    s->seen_in = s->received.in_bytes;
    s->last_rx_ms = ss__mono_ms();
    *ret = s;
    return 0;
fail:
    ss__ssh_close(s);
    return rc;
}

void ss__ssh_close(ss__ssh *s)
{
    if (!s)
        return;
    if (s->event) {
        ssh_event_remove_session(s->event, s->session);
        ssh_event_free(s->event);
    }
    if (s->channel) {
        ssh_channel_close(s->channel);
        ssh_channel_free(s->channel);
    }
    if (s->session) {
        ssh_disconnect(s->session);
        ssh_free(s->session);
    }
    /* libssh closes the socket it was given, except after a failed handshake:
     * close it then, if the number still names that socket. */
    struct stat st;
    if (s->fd >= 0 && fstat(s->fd, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == s->fd_ino)
        close(s->fd);
    ss__buf_free(&s->out);
    ss__buf_free(&s->err);
    free(s);
}
