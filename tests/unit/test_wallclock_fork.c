/*
 * The counter's anchor after fork(): a child forked while another thread was
 * renewing the anchor inherits its sequence lock odd, and with it held; the
 * child must still read the time. White-box (the anchor is static to
 * util/wallclock.c, so this program compiles that file in): the parent sets
 * the state fork would have caught, then forks a real child.
 */
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "util/wallclock.c"

#ifdef HAVE_TSC

/* The child's verdict: 0 if it read a plausible time, else killed by the alarm. */
static int child_reads_time(void)
{
    alarm(5); /* a child spinning on the inherited lock is killed */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t before = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    int64_t t = ss__wallclock_ns(SS_TIME_PRECISE);
    return t >= before - 1000000000 && t <= before + 1000000000 ? 0 : 1;
}

static void test_fork_during_renewal(void **state)
{
    (void)state;
    if (ss__wallclock_resolve(SS_TIME_PRECISE) != SS_TIME_PRECISE)
        skip(); /* no invariant counter here: clock_gettime has no state */
    (void)ss__wallclock_ns(SS_TIME_PRECISE);
    /* what a fork in the middle of publish() by another thread leaves */
    assert_int_equal(pthread_mutex_lock(&renew_mu), 0);
    __atomic_fetch_add(&anchor.seq, 1, __ATOMIC_RELAXED);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(child_reads_time());
    __atomic_fetch_add(&anchor.seq, 1, __ATOMIC_RELAXED);
    pthread_mutex_unlock(&renew_mu);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_false(WIFSIGNALED(status)); /* SIGALRM: the child spun on seq */
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fork_during_renewal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

#else

int main(void)
{
    return 77; /* meson: skipped, no time-stamp counter on this architecture */
}

#endif
