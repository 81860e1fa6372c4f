/*
 * run_joblog.c: GNU parallel's --joblog (see run_joblog.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <syncstream.h>

#include "run_joblog.h"
#include "tool.h"

static const char header[] =
    "Seq\tHost\tStarttime\tJobRuntime\tSend\tReceive\tExitval\tSignal\tCommand\n";

/* Mark the jobs an existing log lists as done (succeeded only, for
 * RUN_RESUME_FAILED). Lines that are not a job's (the header, garbage, a
 * sequence number beyond total) are passed over, as parallel does. */
static void read_done(FILE *f, run_resume resume, bool *skip, size_t total)
{
    char *line = NULL;
    size_t cap = 0;

    while (getline(&line, &cap, f) > 0) {
        char *field[8];
        char *p = line;
        size_t n = 0;
        for (; n < 8; n++) {
            field[n] = p;
            p = strchr(p, '\t');
            if (!p)
                break;
            *p++ = '\0';
        }
        if (n < 7)
            continue;
        char *end;
        errno = 0;
        unsigned long long seq = strtoull(field[0], &end, 10);
        if (errno || *end || end == field[0] || seq == 0 || seq > total)
            continue;
        long exitval = strtol(field[6], NULL, 10), signo = strtol(field[7], NULL, 10);
        if (resume == RUN_RESUME || (exitval == 0 && signo == 0))
            skip[seq - 1] = true;
        else
            skip[seq - 1] = false; /* a later line says it failed after all */
    }
    free(line);
}

int run_joblog_open(run_joblog *jl, const char *path, run_resume resume, bool *skip, size_t total)
{
    jl->f = NULL;
    if (resume != RUN_RESUME_NONE) {
        FILE *old = fopen(path, "r");
        if (old) {
            read_done(old, resume, skip, total);
            fclose(old);
        } else if (errno != ENOENT) {
            return tool_fail("run: cannot read the job log '%s': %s", path, ss_strerror(-errno));
        }
    }
    jl->f = fopen(path, resume != RUN_RESUME_NONE ? "ae" : "we");
    if (!jl->f)
        return tool_fail("run: cannot open the job log '%s': %s", path, ss_strerror(-errno));
    /* a resumed log that exists already has its header */
    if (fseeko(jl->f, 0, SEEK_END) == 0 && ftello(jl->f) == 0)
        fputs(header, jl->f);
    if (fflush(jl->f) != 0) {
        int err = errno;
        fclose(jl->f);
        jl->f = NULL;
        return tool_fail("run: cannot write the job log '%s': %s", path, ss_strerror(-err));
    }
    return 0;
}

void run_joblog_write(run_joblog *jl, size_t seq, int64_t start_ns, int64_t runtime_ns,
                      uint64_t received, int exitval, int signo, const char *command)
{
    if (!jl->f)
        return;
    fprintf(jl->f, "%zu\t:\t%" PRId64 ".%03" PRId64 "\t%10.3f\t0\t%" PRIu64 "\t%d\t%d\t%s\n", seq,
            start_ns / 1000000000, start_ns % 1000000000 / 1000000, (double)runtime_ns / 1e9,
            received, exitval, signo, command ? command : "");
    /* flushed per job: a run that is killed leaves a log that --resume can use */
    fflush(jl->f);
}

int run_joblog_close(run_joblog *jl, const char *path)
{
    if (!jl->f)
        return 0;
    bool bad = ferror(jl->f);
    if (fclose(jl->f) != 0)
        bad = true;
    jl->f = NULL;
    return bad ? tool_fail("run: writing the job log '%s' failed", path) : 0;
}
