/*
 * with_sshd COMMAND [ARG]...: start a real OpenSSH sshd on 127.0.0.1 (the
 * tests' harness, tests/helpers/sshd.h), run COMMAND with the server's
 * settings in its environment, stop the server, exit with COMMAND's status.
 *
 *   SSHD_PORT SSHD_USER SSHD_PASSWORD SSHD_KEY (authorized) SSHD_OTHER_KEY
 *   (not authorized) SSHD_KNOWN_HOSTS (lists the host key) SSHD_DIR
 *
 * For the tool's shell tests of `syncstream connect ssh://...`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sshd.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: with_sshd COMMAND [ARG]...\n");
        return 2;
    }
    ss_test_sshd d;
    if (ss_test_sshd_start(&d) != 0)
        return 1;
    char port[16];
    snprintf(port, sizeof(port), "%d", d.port);
    setenv("SSHD_PORT", port, 1);
    setenv("SSHD_USER", d.user, 1);
    setenv("SSHD_PASSWORD", d.password, 1);
    setenv("SSHD_KEY", d.user_key, 1);
    setenv("SSHD_OTHER_KEY", d.other_key, 1);
    setenv("SSHD_KNOWN_HOSTS", d.known_hosts, 1);
    setenv("SSHD_DIR", d.dir, 1);
    int status = 1;
    pid_t pid = fork();
    if (pid == 0) {
        execvp(argv[1], argv + 1);
        perror(argv[1]);
        _exit(127);
    }
    if (pid > 0 && waitpid(pid, &status, 0) == pid)
        status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    ss_test_sshd_stop(&d);
    return status;
}
