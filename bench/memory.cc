// bench_memory: heap bytes per record held by a full ss_linebuf, against
// spdlog's ringbuffer_sink and a plain array of std::string.
//
// Usage: bench_memory [-m MAXLEN]
//
// Each store keeps the newest MAXLEN (default 1 000 000) records and is given
// 2 * MAXLEN lines of 64 bytes of text (plus the '\n' where a line break is
// written), so that it is full and has rotated once. The measure is the heap in
// use (glibc mallinfo2: bytes in malloc chunks plus mmapped blocks) after the
// fill minus before it, divided by MAXLEN: what a held record costs, the
// store's fixed parts and its growth slack included.
//
//   ours, default writer: ss_linebuf_write() of whole lines (source "");
//   ours, 4 writers:      four ss_writer named "worker-0".."worker-3" in turn,
//                         so records carry a source and a producer id;
//   spdlog:               ringbuffer_sink_mt(MAXLEN) behind a logger, "%v";
//   std::string array:    a ring of MAXLEN std::string, each assigned the text.
//
// The last line is the issue-18 TARGET line for the 4-writer case (the larger
// of ours).

#include <syncstream.h>

#include <malloc.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/version.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace {

constexpr size_t kText = 64;
constexpr double kTargetBytes = 96.0;

size_t heap_in_use() {
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

void check(int rc, const char *what) {
    if (rc < 0) {
        std::fprintf(stderr, "bench_memory: %s: %s\n", what, ss_strerror(rc));
        std::exit(1);
    }
}

// The line for record i: kText bytes of text that vary with i, then '\n'.
void make_line(char *line, size_t i) {
    std::snprintf(line, kText + 1, "%020zu", i);
    std::memset(line + 20, 'x', kText - 20);
    line[kText] = '\n';
}

// Runs fill() and returns the heap it leaves in use, per record; fill() leaves
// its store alive in the caller, which frees it after the measure.
double measure(size_t maxlen, const std::function<void(void)> &fill) {
    size_t before = heap_in_use();
    fill();
    size_t after = heap_in_use();
    return (double)(after - before) / (double)maxlen;
}

double ours_default(size_t maxlen) {
    ss_linebuf *lb = nullptr;
    double per = measure(maxlen, [&] {
        ss_linebuf_opts o = {};
        o.maxlen = maxlen;
        check(ss_linebuf_new(&lb, &o), "ss_linebuf_new");
        char line[kText + 1];
        for (size_t i = 0; i < 2 * maxlen; i++) {
            make_line(line, i);
            check(ss_linebuf_write(lb, line, sizeof(line)), "ss_linebuf_write");
        }
    });
    ss_linebuf_stats st;
    check(ss_linebuf_get_stats(lb, &st), "ss_linebuf_get_stats");
    if (st.count != maxlen) {
        std::fprintf(stderr, "bench_memory: holds %zu records, not %zu\n", st.count, maxlen);
        std::exit(1);
    }
    ss_linebuf_free(lb);
    return per;
}

double ours_writers(size_t maxlen) {
    ss_linebuf *lb = nullptr;
    ss_writer *w[4] = {};
    double per = measure(maxlen, [&] {
        ss_linebuf_opts o = {};
        o.maxlen = maxlen;
        check(ss_linebuf_new(&lb, &o), "ss_linebuf_new");
        for (int k = 0; k < 4; k++) {
            char name[16];
            std::snprintf(name, sizeof(name), "worker-%d", k);
            check(ss_writer_new(&w[k], lb, name, 0), "ss_writer_new");
        }
        char line[kText + 1];
        for (size_t i = 0; i < 2 * maxlen; i++) {
            make_line(line, i);
            check(ss_writer_write(w[i % 4], line, sizeof(line)), "ss_writer_write");
        }
    });
    ss_linebuf_stats st;
    check(ss_linebuf_get_stats(lb, &st), "ss_linebuf_get_stats");
    if (st.count != maxlen) {
        std::fprintf(stderr, "bench_memory: holds %zu records, not %zu\n", st.count, maxlen);
        std::exit(1);
    }
    for (auto *x : w)
        check(ss_writer_close(x), "ss_writer_close");
    ss_linebuf_free(lb);
    return per;
}

double spdlog_ring(size_t maxlen) {
    std::shared_ptr<spdlog::logger> log;
    double per = measure(maxlen, [&] {
        auto sink = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(maxlen);
        log = std::make_shared<spdlog::logger>("bench", sink);
        log->set_pattern("%v");
        char line[kText + 1];
        for (size_t i = 0; i < 2 * maxlen; i++) {
            make_line(line, i);
            log->info(spdlog::string_view_t(line, kText));
        }
    });
    log.reset();
    return per;
}

double string_ring(size_t maxlen) {
    std::vector<std::string> ring;
    double per = measure(maxlen, [&] {
        ring.resize(maxlen);
        char line[kText + 1];
        for (size_t i = 0; i < 2 * maxlen; i++) {
            make_line(line, i);
            ring[i % maxlen].assign(line, kText);
        }
    });
    return per;
}

}  // namespace

int main(int argc, char **argv) {
    size_t maxlen = 1000000;
    int opt;
    while ((opt = getopt(argc, argv, "m:")) != -1) {
        if (opt == 'm' && std::atol(optarg) > 0) {
            maxlen = (size_t)std::atol(optarg);
        } else {
            std::fprintf(stderr, "usage: bench_memory [-m MAXLEN]\n");
            return 2;
        }
    }
    std::printf("bench_memory: heap per held record of %zu bytes, maxlen %zu, %zu lines written, "
                "syncstream %s, spdlog %d.%d.%d\n",
                kText, maxlen, 2 * maxlen, ss_version(), SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR,
                SPDLOG_VER_PATCH);
    double def = ours_default(maxlen);
    double wr = ours_writers(maxlen);
    double sp = spdlog_ring(maxlen);
    double st = string_ring(maxlen);
    std::printf("| store | bytes per record |\n| --- | --- |\n");
    std::printf("| ours, default writer | %.1f |\n", def);
    std::printf("| ours, 4 named writers | %.1f |\n", wr);
    std::printf("| spdlog ringbuffer_sink_mt | %.1f |\n", sp);
    std::printf("| std::string ring | %.1f |\n", st);
    double worst = def > wr ? def : wr;
    std::printf("TARGET\tmemory per held 64-byte record at maxlen 1M\t%.1f B\t<=%.0f B\t%s\n", worst,
                kTargetBytes, worst <= kTargetBytes ? "met" : "missed");
    return 0;
}
