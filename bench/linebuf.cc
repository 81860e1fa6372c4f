// bench_linebuf: ss_linebuf (thread mode) against spdlog's ring-buffer sink and
// a raw mutex-guarded ring, plus the latency of waking a follower.
//
// Usage: bench_linebuf [-n LINES_PER_THREAD] [-r RUNS] [-l LATENCY_SAMPLES]
//
// Throughput: T threads (1, 2, 4) each write N lines of 64 bytes (63 chars +
// '\n') into a buffer of 1000 lines. Each configuration runs R times on a fresh
// buffer (runs interleave the implementations); the table shows the median run.
// Timing covers the writes only (threads start together at a barrier; the clock
// stops when the last one is joined).
//
// Latency: a follower thread blocks in ss_linebuf_wait (or ss_linebuf_follow);
// the writer stamps CLOCK_MONOTONIC, writes one line; the follower stamps when it
// wakes. The writer waits for the follower's acknowledgement, then sleeps 50 us so
// the follower is asleep again before the next write. The last column counts the
// follower's voluntary context switches, to show that it really slept each time.

#include <syncstream.h>

#include <pthread.h>
#include <sys/resource.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/version.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr size_t kMaxlen = 1000;
constexpr size_t kLine = 64;  // 63 chars + '\n'

char g_line[kLine + 1];  // NUL-terminated for convenience, the NUL is not written

double now_s() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void check(int rc, const char *what) {
    if (rc < 0) {
        std::fprintf(stderr, "bench_linebuf: %s: %s\n", what, ss_strerror(rc));
        std::exit(1);
    }
}

// One writer configuration: setup() once per run (untimed), then each thread
// calls per_thread(i, n) between the start barrier and the join.
struct Impl {
    const char *name;
    std::function<void(int threads)> setup;
    std::function<void(int thread, size_t n)> run;  // runs in thread `thread`
    std::function<void()> teardown;
};

// T threads, each running impl.run(i, n) after a common barrier; lines/s.
double run_once(Impl &impl, int threads, size_t n) {
    impl.setup(threads);
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, nullptr, threads + 1);
    std::vector<std::thread> ts;
    for (int i = 0; i < threads; i++)
        ts.emplace_back([&, i] {
            pthread_barrier_wait(&bar);
            impl.run(i, n);
        });
    pthread_barrier_wait(&bar);
    double t0 = now_s();
    for (auto &t : ts) t.join();
    double dt = now_s() - t0;
    pthread_barrier_destroy(&bar);
    impl.teardown();
    return threads * (double)n / dt;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    size_t m = v.size() / 2;
    return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

// --- (a) ours, one ss_writer per thread; (a2) ours, shared default writer -----

ss_linebuf *g_lb;
std::vector<ss_writer *> g_writers;

void ours_setup_with(int threads, ss_time_source time_source) {
    ss_linebuf_opts o{};
    o.maxlen = kMaxlen;
    o.time_source = time_source;
    check(ss_linebuf_new(&g_lb, &o), "ss_linebuf_new");
    g_writers.assign(threads, nullptr);
    for (int i = 0; i < threads; i++) {
        std::string src = "t" + std::to_string(i);
        check(ss_writer_new(&g_writers[i], g_lb, src.c_str(), 0), "ss_writer_new");
    }
}

void ours_setup(int threads) { ours_setup_with(threads, SS_TIME_PRECISE); }
void ours_setup_coarse(int threads) { ours_setup_with(threads, SS_TIME_COARSE); }

void ours_teardown() {
    size_t len = 0;
    check(ss_linebuf_len(g_lb, &len), "ss_linebuf_len");
    for (ss_writer *w : g_writers) ss_writer_close(w);
    g_writers.clear();
    ss_linebuf_free(g_lb);
    if (len != kMaxlen) {  // every run writes far more than maxlen lines
        std::fprintf(stderr, "bench_linebuf: buffer holds %zu lines, expected %zu\n", len, kMaxlen);
        std::exit(1);
    }
}

// --- (b) spdlog ringbuffer_sink_mt behind a logger, pattern "%v" --------------

std::shared_ptr<spdlog::logger> g_log;

void spdlog_setup(int) {
    auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(kMaxlen);
    g_log = std::make_shared<spdlog::logger>("bench", sink);
    g_log->set_pattern("%v");
}

// --- (c) the limit: 1000 fixed 64-byte slots, one mutex, lock+memcpy+unlock ---

struct RawRing {
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    size_t head = 0;
    char slot[kMaxlen][kLine];
} *g_raw;

void raw_write(const char *line) {
    pthread_mutex_lock(&g_raw->mu);
    std::memcpy(g_raw->slot[g_raw->head], line, kLine);
    g_raw->head = (g_raw->head + 1) % kMaxlen;
    pthread_mutex_unlock(&g_raw->mu);
}

// --- latency ------------------------------------------------------------------

struct Lat {
    double median_us, p99_us;
    long sleeps;  // the waiter's voluntary context switches: did it really block?
};

Lat wake_latency(bool follow, size_t samples) {
    ss_linebuf_opts o{};
    o.maxlen = kMaxlen;
    check(ss_linebuf_new(&g_lb, &o), "ss_linebuf_new");
    std::atomic<double> sent{0};
    std::atomic<size_t> acked{0};
    std::vector<double> lat(samples);
    long sleeps = 0;

    std::thread waiter([&] {
        ss_records recs{};  // SS_RECORDS_INIT, without -Wmissing-field-initializers
        uint64_t cursor = 0;
        rusage ru0, ru1;
        getrusage(RUSAGE_THREAD, &ru0);
        for (size_t i = 0; i < samples; i++) {
            if (follow) {
                check(ss_linebuf_follow(g_lb, cursor, 0, -1, &recs), "ss_linebuf_follow");
                double t = now_s();
                cursor = recs.cursor;
                lat[i] = t - sent.load();
            } else {
                check(ss_linebuf_wait(g_lb, cursor, -1), "ss_linebuf_wait");
                double t = now_s();
                cursor++;
                lat[i] = t - sent.load();
            }
            acked.store(i + 1);
        }
        getrusage(RUSAGE_THREAD, &ru1);
        sleeps = ru1.ru_nvcsw - ru0.ru_nvcsw;
        ss_records_clear(&recs);
    });

    timespec pause{0, 50 * 1000};
    for (size_t i = 0; i < samples; i++) {
        nanosleep(&pause, nullptr);  // let the waiter block again
        sent.store(now_s());
        check(ss_linebuf_write(g_lb, g_line, kLine), "ss_linebuf_write");
        while (acked.load() != i + 1) sched_yield();
    }
    waiter.join();
    ss_linebuf_free(g_lb);

    std::sort(lat.begin(), lat.end());
    return {lat[samples / 2] * 1e6, lat[std::min(samples - 1, samples * 99 / 100)] * 1e6, sleeps};
}

}  // namespace

int main(int argc, char **argv) {
    size_t n = 1000000, samples = 20000;
    int runs = 5, opt;
    while ((opt = getopt(argc, argv, "n:r:l:")) != -1) {
        switch (opt) {
        case 'n': n = std::strtoull(optarg, nullptr, 10); break;
        case 'r': runs = std::atoi(optarg); break;
        case 'l': samples = std::strtoull(optarg, nullptr, 10); break;
        default:
            std::fprintf(stderr, "usage: %s [-n lines_per_thread] [-r runs] [-l latency_samples]\n",
                         argv[0]);
            return 2;
        }
    }
    if (n == 0 || runs < 1 || samples == 0) {
        std::fprintf(stderr, "bench_linebuf: -n, -r and -l must be positive\n");
        return 2;
    }
    for (size_t i = 0; i < kLine - 1; i++) g_line[i] = (char)('a' + i % 26);
    g_line[kLine - 1] = '\n';
    const spdlog::string_view_t text(g_line, kLine - 1);

    Impl impls[] = {
        {"ours (ss_writer)", ours_setup,
         [](int t, size_t k) {
             for (size_t i = 0; i < k; i++) check(ss_writer_write(g_writers[t], g_line, kLine), "ss_writer_write");
         },
         ours_teardown},
        {"ours (shared)", ours_setup,
         [](int, size_t k) {
             for (size_t i = 0; i < k; i++) check(ss_linebuf_write(g_lb, g_line, kLine), "ss_linebuf_write");
         },
         ours_teardown},
        {"spdlog ringbuffer", spdlog_setup,
         [&](int, size_t k) {
             for (size_t i = 0; i < k; i++) g_log->info(text);
         },
         [] { g_log.reset(); }},
        {"ours (ss_writer, coarse time)", ours_setup_coarse,
         [](int t, size_t k) {
             for (size_t i = 0; i < k; i++) check(ss_writer_write(g_writers[t], g_line, kLine), "ss_writer_write");
         },
         ours_teardown},
        {"raw mutex ring", [](int) { g_raw = new RawRing; },
         [](int, size_t k) {
             for (size_t i = 0; i < k; i++) raw_write(g_line);
         },
         [] { delete g_raw; }},
    };
    constexpr int kImpls = sizeof impls / sizeof impls[0];
    const int thread_counts[] = {1, 2, 4};
    double vs_spdlog[3], vs_raw_1 = 0;  // ours (ss_writer, default clock) / peer, per thread count

    std::printf("bench_linebuf: %zu lines of %zu bytes per thread, maxlen %zu, median of %d runs, "
                "%ld CPUs, syncstream %s, spdlog %d.%d.%d\n\n",
                n, kLine, kMaxlen, runs, sysconf(_SC_NPROCESSORS_ONLN), ss_version(),
                SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR, SPDLOG_VER_PATCH);
    std::printf("| threads | ours ss_writer | ours shared | spdlog ringbuffer | ours coarse time "
                "| raw mutex ring | ours/spdlog | ours/raw | shared/spdlog | shared/raw "
                "| coarse/spdlog | coarse/raw |\n");
    std::printf("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (int ti = 0; ti < 3; ti++) {
        const int t = thread_counts[ti];
        // Runs interleave the four implementations so that drift hits them alike.
        std::vector<double> v[kImpls];
        for (int r = 0; r < runs; r++)
            for (int k = 0; k < kImpls; k++) v[k].push_back(run_once(impls[k], t, n));
        double m[kImpls];
        for (int k = 0; k < kImpls; k++) m[k] = median(v[k]);
        std::printf("| %d | %.2f M/s | %.2f M/s | %.2f M/s | %.2f M/s | %.2f M/s | %.2fx | %.2fx "
                    "| %.2fx | %.2fx | %.2fx | %.2fx |\n",
                    t, m[0] / 1e6, m[1] / 1e6, m[2] / 1e6, m[3] / 1e6, m[4] / 1e6,
                    m[0] / m[2], m[0] / m[4], m[1] / m[2], m[1] / m[4], m[3] / m[2], m[3] / m[4]);
        std::fflush(stdout);
        vs_spdlog[ti] = m[0] / m[2];
        if (t == 1) vs_raw_1 = m[0] / m[4];
    }

    std::printf("\nwake-up latency, write -> blocked follower awake, %zu samples:\n\n", samples);
    std::printf("| waiter | median (us) | p99 (us) | waiter slept |\n| --- | ---: | ---: | ---: |\n");
    for (bool follow : {false, true}) {
        Lat l = wake_latency(follow, samples);
        std::printf("| %s | %.1f | %.1f | %ld times |\n", follow ? "ss_linebuf_follow" : "ss_linebuf_wait",
                    l.median_us, l.p99_us, l.sleeps);
    }

    // One line per issue-18 target, for bench/run-all (tab-separated).
    std::printf("\n");
    for (int ti = 0; ti < 3; ti++)
        std::printf("TARGET\tthread mode, %d thread%s vs spdlog\t%.2fx\t>=2x\t%s\n", thread_counts[ti],
                    thread_counts[ti] == 1 ? "" : "s", vs_spdlog[ti], vs_spdlog[ti] >= 2 ? "met" : "missed");
    std::printf("TARGET\tthread mode, 1 thread vs raw mutex ring\t%.2fx\t>=0.5x\t%s\n", vs_raw_1,
                vs_raw_1 >= 0.5 ? "met" : "missed");
    return 0;
}
