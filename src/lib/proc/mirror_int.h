/* What the process buffer needs of the mirror side. */
#ifndef SS_PROC_MIRROR_INT_H
#define SS_PROC_MIRROR_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <syncstream/proc.h>

/* Bytes of the secret a connected mirror presents (SS__FRAME_HELLO). */
#define SS__MIRROR_SECRET 16

/*
 * A mirror over pipe fd (its write end, owned by the mirror from now on), watching the stop
 * flag at *stop (a shared mapping; not owned), cutting lines at max_line, ending
 * them as line_flags says (ss_linebuf_opts.line_flags).
 * Returns 0 or -ENOMEM (fd is closed then).
 */
int ss__mirror_new(ss_mirror **ret, int fd, const uint32_t *stop, size_t max_line,
                   unsigned line_flags);

/* Give a mirror made with fd -1 its pipe (owned by the mirror from now on). */
void ss__mirror_set_fd(ss_mirror *m, int fd);

/* Free a mirror without sending anything; closes its fd if it has one. */
void ss__mirror_free(ss_mirror *m);

/* The mirror's fd (-1 if none): a fork child closes its copy of a parent's. */
int ss__mirror_fd(const ss_mirror *m);

/* The partial line not sent yet (valid until the next call on m). */
void ss__mirror_partial(const ss_mirror *m, const char **ret, size_t *ret_len);

/* Drop the partial line. */
void ss__mirror_clear(ss_mirror *m);

/*
 * A connected mirror's address, "@NAME/SECRET" (procbuf.c makes it): the
 * abstract AF_UNIX socket NAME (no '/') and SECRET_HEX, 2 * SS__MIRROR_SECRET
 * hex digits. Returns 0 or -EINVAL.
 */
int ss__mirror_parse_address(const char *address, struct sockaddr_un *ret_sa, socklen_t *ret_len,
                             unsigned char secret[SS__MIRROR_SECRET]);

#endif
