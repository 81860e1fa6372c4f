/* The real-sshd test harness: see sshd.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"
#include "sshd.h"

#define SSHD_PATH "/usr/sbin/sshd"

char *ss_test_sshd_path(const ss_test_sshd *d, const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", d->dir, name);
    return out;
}

__attribute__((format(printf, 1, 2))) static int run(const char *fmt, ...)
{
    char cmd[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "sshd harness: '%s' failed (%d)\n", cmd, rc);
    return rc == 0 ? 0 : -1;
}

/* Read a small file whole into out (NUL-terminated). */
static int read_file(const char *path, char *out, size_t n)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    size_t got = fread(out, 1, n - 1, f);
    out[got] = '\0';
    fclose(f);
    return 0;
}

static void random_hex(char *out, size_t chars)
{
    unsigned char raw[32];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, raw, sizeof(raw)) != (ssize_t)sizeof(raw))
        memset(raw, 0x5a, sizeof(raw));
    if (fd >= 0)
        close(fd);
    for (size_t i = 0; i < chars && i / 2 < sizeof(raw); i++)
        out[i] = "0123456789abcdef"[(raw[i / 2] >> (i % 2 ? 0 : 4)) & 15];
    out[chars] = '\0';
}

/* A copy of /etc/shadow in which root's password is d->password. */
static int make_shadow(ss_test_sshd *d, const char *path)
{
    /* openssl's command rather than libcrypt: the sanitizers intercept
     * crypt_r, and the linker then drops libcrypt as unneeded. */
    char salt[17], cmd[256], hash[256] = "";
    random_hex(salt, 16);
    snprintf(cmd, sizeof(cmd), "openssl passwd -6 -salt %s %s", salt, d->password);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    if (!fgets(hash, sizeof(hash), p))
        hash[0] = '\0';
    if (pclose(p) != 0 || hash[0] != '$')
        return -1;
    hash[strcspn(hash, "\n")] = '\0';

    FILE *in = fopen("/etc/shadow", "re");
    FILE *out = fopen(path, "we");
    if (!in || !out) {
        if (in)
            fclose(in);
        if (out)
            fclose(out);
        return -1;
    }
    char line[4096];
    while (fgets(line, sizeof(line), in)) {
        if (strncmp(line, "root:", 5) == 0) {
            const char *rest = strchr(line + 5, ':');
            fprintf(out, "root:%s%s", hash, rest ? rest : ":::::::\n");
        } else {
            fputs(line, out);
        }
    }
    fclose(in);
    return fclose(out) == 0 ? 0 : -1;
}

/* True once the port answers with an SSH banner. */
static bool answers(void *ctx, pid_t pid)
{
    const ss_test_sshd *d = ctx;
    int fd = ss_test_daemon_connect(d->port);
    bool ok = false;
    if (fd >= 0) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        char banner[8] = {0};
        if (poll(&p, 1, 2000) == 1 && read(fd, banner, sizeof(banner)) >= 4)
            ok = memcmp(banner, "SSH-", 4) == 0;
    }
    if (fd >= 0)
        close(fd);
    return ok;
}

static pid_t spawn_sshd(void *ctx)
{
    const ss_test_sshd *d = ctx;
    char config[128], shadow[128], log[128];
    ss_test_sshd_path(d, "sshd_config", config, sizeof(config));
    ss_test_sshd_path(d, "shadow", shadow, sizeof(shadow));
    ss_test_sshd_path(d, "sshd.log", log, sizeof(log));
    pid_t pid = fork();
    if (pid != 0)
        return pid;
    ss_test_daemon_child(log);
    /* The password lives only in this mount namespace's view of /etc/shadow. */
    execl("/usr/bin/unshare", "unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
          "mount --bind \"$1\" /etc/shadow && exec " SSHD_PATH " -D -e -f \"$2\"", "sh", shadow,
          config, (char *)NULL);
    _exit(127);
}

static int write_known_hosts(const ss_test_sshd *d, const char *path, const char *pub_path)
{
    char pub[1024];
    if (read_file(pub_path, pub, sizeof(pub)) != 0)
        return -1;
    return ss_test_daemon_write(path, "[127.0.0.1]:%d %s", d->port, pub);
}

/* sshd_config for d->port, and the known_hosts file that names that port. */
static int write_config(void *ctx)
{
    const ss_test_sshd *d = ctx;
    char path[128];
    if (ss_test_daemon_write(ss_test_sshd_path(d, "sshd_config", path, sizeof(path)),
                             "ListenAddress 127.0.0.1:%d\n"
                             "HostKey %s/host_ed25519\n"
                             "PidFile none\n"
                             "AuthorizedKeysFile %s/authorized_keys\n"
                             "StrictModes no\n"
                             "UsePAM no\n"
                             "PermitRootLogin yes\n"
                             "PubkeyAuthentication yes\n"
                             "PasswordAuthentication yes\n"
                             "KbdInteractiveAuthentication no\n"
                             "PrintMotd no\n"
                             "PrintLastLog no\n"
                             "UseDNS no\n"
                             "MaxStartups 100\n"
                             "LogLevel INFO\n",
                             d->port, d->dir, d->dir) != 0)
        return -1;
    return write_known_hosts(d, d->known_hosts, d->host_pub);
}

/* Up to 10 s to answer with its banner. */
static const ss_test_daemon sshd_daemon = {write_config, spawn_sshd, answers, 10000};

int ss_test_sshd_wrong_known_hosts(ss_test_sshd *d, const char *path)
{
    char key[128], pub[140];
    ss_test_sshd_path(d, "impostor_ed25519", key, sizeof(key));
    snprintf(pub, sizeof(pub), "%s.pub", key);
    if (access(key, F_OK) != 0 && run("ssh-keygen -q -t ed25519 -N '' -C impostor -f '%s'", key))
        return -1;
    return write_known_hosts(d, path, pub);
}

int ss_test_sshd_marked_known_hosts(ss_test_sshd *d, const char *path, const char *marker,
                                    bool plain)
{
    char pub[1024], text[2600];
    if (read_file(d->host_pub, pub, sizeof(pub)) != 0)
        return -1;
    pub[strcspn(pub, "\n")] = '\0';
    int n = snprintf(text, sizeof(text), "# a comment\n%s * %s\n", marker, pub);
    if (plain)
        snprintf(text + n, sizeof(text) - (size_t)n, "[127.0.0.1]:%d %s\n", d->port, pub);
    return ss_test_daemon_write(path, "%s", text);
}

int ss_test_sshd_start(ss_test_sshd *d)
{
    memset(d, 0, sizeof(*d));
    if (geteuid() != 0) {
        fprintf(stderr,
                "sshd harness: the SSH tests run sshd as root (CI does); run them as root\n");
        return -1;
    }
    if (ss_test_daemon_dir(d->dir, "sshd") < 0)
        return -1;
    d->user = "root";
    random_hex(d->password, 24);
    ss_test_sshd_path(d, "id_ed25519", d->user_key, sizeof(d->user_key));
    ss_test_sshd_path(d, "other_ed25519", d->other_key, sizeof(d->other_key));
    ss_test_sshd_path(d, "known_hosts", d->known_hosts, sizeof(d->known_hosts));
    ss_test_sshd_path(d, "host_ed25519.pub", d->host_pub, sizeof(d->host_pub));
    ss_test_sshd_path(d, "agent.sock", d->agent_sock, sizeof(d->agent_sock));

    char shadow[128];
    /* sshd, started as root, chroots its unprivileged half into /run/sshd. */
    if (mkdir("/run/sshd", 0755) != 0 && errno != EEXIST)
        goto fail;
    if (run("ssh-keygen -q -t ed25519 -N '' -C host -f '%s/host_ed25519'", d->dir) ||
        run("ssh-keygen -q -t ed25519 -N '' -C user -f '%s'", d->user_key) ||
        run("ssh-keygen -q -t ed25519 -N '' -C other -f '%s'", d->other_key) ||
        run("cp '%s.pub' '%s/authorized_keys'", d->user_key, d->dir) ||
        make_shadow(d, ss_test_sshd_path(d, "shadow", shadow, sizeof(shadow))) != 0)
        goto fail;

    if (ss_test_daemon_start(&sshd_daemon, d, &d->port, &d->pid) == 0)
        return 0;
    fprintf(stderr, "sshd harness: sshd did not start; its log:\n");
    run("cat '%s/sshd.log' >&2", d->dir);
fail:
    fprintf(stderr, "sshd harness: setup failed in %s\n", d->dir);
    ss_test_sshd_stop(d);
    return -1;
}

/* The processes below pid (children, grandchildren...), at most max. */
static int descendants(pid_t root, pid_t *out, int max)
{
    enum { MAXP = 32768 };
    static pid_t pids[MAXP], ppids[MAXP];
    int n = 0;
    DIR *proc = opendir("/proc");
    if (!proc)
        return 0;
    struct dirent *e;
    while ((e = readdir(proc)) && n < MAXP) {
        char path[64], stat[512];
        pid_t pid = (pid_t)atoi(e->d_name);
        if (pid <= 0)
            continue;
        snprintf(path, sizeof(path), "/proc/%d/stat", pid);
        if (read_file(path, stat, sizeof(stat)) != 0)
            continue;
        /* "pid (comm) state ppid ...": comm may hold spaces, so parse after ')'. */
        const char *close = strrchr(stat, ')');
        int ppid;
        char state;
        if (close && sscanf(close + 1, " %c %d", &state, &ppid) == 2) {
            pids[n] = pid;
            ppids[n] = (pid_t)ppid;
            n++;
        }
    }
    closedir(proc);
    int found = 0;
    out[found++] = root;
    for (int i = 0; i < found; i++) /* breadth first over the tree */
        for (int j = 0; j < n && found < max; j++)
            if (ppids[j] == out[i])
                out[found++] = pids[j];
    /* Leave the root out. */
    memmove(out, out + 1, (size_t)(found - 1) * sizeof(*out));
    return found - 1;
}

static bool is_sshd(pid_t pid)
{
    char path[64], comm[64];
    snprintf(path, sizeof(path), "/proc/%d/comm", pid);
    return read_file(path, comm, sizeof(comm)) == 0 && strncmp(comm, "sshd", 4) == 0;
}

int ss_test_sshd_signal_sessions(ss_test_sshd *d, int sig)
{
    pid_t pids[256];
    int n = d->pid > 0 ? descendants(d->pid, pids, 256) : 0, hit = 0;
    for (int i = 0; i < n; i++)
        if (is_sshd(pids[i]) && kill(pids[i], sig) == 0)
            hit++;
    return hit;
}

int ss_test_sshd_agent(ss_test_sshd *d)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
        }
        execlp("ssh-agent", "ssh-agent", "-D", "-a", d->agent_sock, (char *)NULL);
        _exit(127);
    }
    d->agent_pid = pid;
    for (int i = 0; i < 100 && access(d->agent_sock, F_OK) != 0; i++)
        ss_test_sleep_ms(50);
    return run("SSH_AUTH_SOCK='%s' ssh-add -q '%s' 2>/dev/null", d->agent_sock, d->user_key);
}

void ss_test_sshd_stop(ss_test_sshd *d)
{
    if (d->pid > 0) {
        pid_t pids[256];
        int n = descendants(d->pid, pids, 256);
        kill(d->pid, SIGKILL);
        for (int i = 0; i < n; i++) {
            kill(pids[i], SIGKILL);
            kill(pids[i], SIGCONT);
        }
        waitpid(d->pid, NULL, 0);
        d->pid = 0;
    }
    if (d->agent_pid > 0) {
        kill(d->agent_pid, SIGTERM);
        waitpid(d->agent_pid, NULL, 0);
        d->agent_pid = 0;
    }
    ss_test_daemon_rmdir(d->dir);
    d->dir[0] = '\0';
}

ss_ssh_opts ss_test_sshd_opts(const ss_test_sshd *d, const char *command)
{
    return (ss_ssh_opts){
        .host = "127.0.0.1",
        .port = d->port,
        .user = d->user,
        .command = command,
        .identity = d->user_key,
        .known_hosts = d->known_hosts,
        .connect_timeout_ms = 10000,
    };
}

ss_test_sshd ss_test_server;

int ss_test_sshd_group_setup(void **state)
{
    return ss_test_sshd_start(&ss_test_server);
}

int ss_test_sshd_group_teardown(void **state)
{
    ss_test_sshd_stop(&ss_test_server);
    return 0;
}
