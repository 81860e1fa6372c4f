/*
 * Record objects and cursor reads on a LineBuffer: records(), iteration and
 * the live follow() iterator, on ss_linebuf_read_since / ss_linebuf_follow.
 *
 * Record and RecordBatch are struct sequences (named tuples made in C): cheap
 * to create, read-only, and they unpack as tuples. A record's text is a str;
 * bytes that are not UTF-8 become lone surrogates (surrogateescape), so
 * text.encode("utf-8", "surrogateescape") gives the exact bytes back: no
 * second copy of the bytes per record.
 *
 * follow() waits in slices of WAIT_SLICE_MS with the GIL released, and runs
 * the signal handlers between slices, so that Ctrl-C interrupts it within a
 * slice: the library's wait sleeps on a condition variable that a signal
 * does not wake.
 */
#include "core.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include <syncstream/common.h>
#include <syncstream/linebuf.h>

#define WAIT_SLICE_MS 50
/* Records fetched per ss_linebuf_follow call; the iterator hands them out one
 * by one. */
#define FOLLOW_BATCH 1024

static PyTypeObject *record_type;
static PyTypeObject *batch_type;
static PyObject *follower_type;

static PyStructSequence_Field record_fields[] = {
    {"seq", "1, 2, 3... per buffer, in the order the records were stored"},
    {"time", "when the line was completed, seconds since the epoch (as time.time())"},
    {"source", "the producer's name (\"\" for a buffer's own writers, \"stdout\" or\n"
               "\"stderr\" for syncstream.capture())"},
    {"kind", "\"line\", \"warning\" or \"error\""},
    {"text", "the line, without its line break; a warning or an error: its lines\n"
             "joined by \"\\n\". Bytes that are not UTF-8 are lone surrogates\n"
             "(surrogateescape): text.encode(\"utf-8\", \"surrogateescape\") is the\n"
             "exact bytes."},
    {"time_ns", "time as integer nanoseconds since the epoch"},
    {"stderr", "whether the line came from a standard error stream"},
    {"continued", "whether the line was longer than the longest record and the\n"
                  "next record from the same source continues it"},
    {NULL, NULL},
};

static PyStructSequence_Desc record_desc = {
    "syncstream.Record",
    "Record(seq, time, source, kind, text): one stored line, warning or error.\n\n"
    "A read-only named tuple of 5 items; time_ns, stderr and continued are\n"
    "attributes only.",
    record_fields,
    5,
};

static PyStructSequence_Field batch_fields[] = {
    {"records", "a tuple of Record, oldest first"},
    {"cursor", "pass as since= to the next records() call (or cursor= to follow())"},
    {"missed", "records newer than since= that had left the buffer (rotated out\n"
               "or cleared) before this read: lost to this reader"},
    {NULL, NULL},
};

static PyStructSequence_Desc batch_desc = {
    "syncstream.RecordBatch",
    "RecordBatch(records, cursor, missed): what LineBuffer.records() returns.",
    batch_fields,
    3,
};

static PyObject *make_record(const ss_record *rec)
{
    PyObject *r = PyStructSequence_New(record_type);
    if (!r)
        return NULL;
    PyObject *items[8] = {
        PyLong_FromUnsignedLongLong(rec->seq),
        PyFloat_FromDouble((double)rec->time_ns / 1e9),
        PyUnicode_DecodeUTF8(rec->source, (Py_ssize_t)strlen(rec->source), "replace"),
        PyUnicode_FromString(ss_kind_name(rec->kind)),
        ss__py_str(rec->text, rec->len),
        PyLong_FromLongLong(rec->time_ns),
        PyBool_FromLong(rec->flags & SS_REC_STDERR),
        PyBool_FromLong(rec->flags & SS_REC_CONTINUED),
    };
    bool ok = true;
    for (int i = 0; i < 8; i++) {
        if (!items[i])
            ok = false;
        else
            PyStructSequence_SetItem(r, i, items[i]);
    }
    if (!ok) {
        /* The struct sequence owns what was set; its other fields are NULL. */
        Py_DECREF(r);
        return NULL;
    }
    return r;
}

/* A cursor or limit argument: a non-negative int; None means none. */
static int parse_count(PyObject *obj, const char *what, unsigned long long *ret)
{
    if (!obj || obj == Py_None) {
        *ret = 0;
        return 0;
    }
    if (!PyLong_Check(obj)) {
        ss__py_type_error(what, "an int", obj);
        return -1;
    }
    unsigned long long v = PyLong_AsUnsignedLongLong(obj);
    if (v == (unsigned long long)-1 && PyErr_Occurred()) {
        PyErr_Clear();
        PyErr_Format(PyExc_ValueError, "syncstream: %s must be an int from 0 to 2**64-1, not %R",
                     what, obj);
        return -1;
    }
    *ret = v;
    return 0;
}

/* The records of lb with seq > since, at most limit (0: all): a RecordBatch. */
static PyObject *read_batch(ss_linebuf *lb, uint64_t since, size_t limit)
{
    ss_records set = SS_RECORDS_INIT;
    int rc = ss_linebuf_read_since(lb, since, limit, &set);
    if (rc < 0)
        return ss__py_error(rc, "LineBuffer");
    PyObject *batch = PyStructSequence_New(batch_type);
    PyObject *tuple = PyTuple_New((Py_ssize_t)set.count);
    PyObject *cursor = PyLong_FromUnsignedLongLong(set.cursor);
    PyObject *missed = PyLong_FromUnsignedLongLong(set.missed);
    bool ok = batch && tuple && cursor && missed;
    for (size_t i = 0; ok && i < set.count; i++) {
        PyObject *rec = make_record(&set.items[i]);
        if (!rec)
            ok = false;
        else
            PyTuple_SetItem(tuple, (Py_ssize_t)i, rec);
    }
    ss_records_clear(&set);
    if (!ok) {
        Py_XDECREF(batch);
        Py_XDECREF(tuple);
        Py_XDECREF(cursor);
        Py_XDECREF(missed);
        return NULL;
    }
    PyStructSequence_SetItem(batch, 0, tuple);
    PyStructSequence_SetItem(batch, 1, cursor);
    PyStructSequence_SetItem(batch, 2, missed);
    return batch;
}

PyObject *ss__py_linebuf_records(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"since", "limit", NULL};
    PyObject *since_obj = NULL, *limit_obj = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OO:records", kwlist, &since_obj, &limit_obj))
        return NULL;
    unsigned long long since, limit;
    if (parse_count(since_obj, "records() since", &since) < 0 ||
        parse_count(limit_obj, "records() limit", &limit) < 0)
        return NULL;
    if (limit_obj && limit_obj != Py_None && limit == 0) {
        PyErr_SetString(PyExc_ValueError, "syncstream: records() limit must be positive or None");
        return NULL;
    }
    ss_linebuf *lb = ss__py_linebuf_get(self);
    return lb ? read_batch(lb, since, (size_t)limit) : NULL;
}

PyObject *ss__py_linebuf_iter(PyObject *self)
{
    ss_linebuf *lb = ss__py_linebuf_get(self);
    PyObject *batch = lb ? read_batch(lb, 0, 0) : NULL;
    if (!batch)
        return NULL;
    PyObject *iter = PyObject_GetIter(PyStructSequence_GetItem(batch, 0));
    Py_DECREF(batch);
    return iter;
}

/*
 * The follow() iterator. It owns a reference to its LineBuffer, so the
 * ss_linebuf outlives every wait on it.
 */
typedef struct {
    PyObject_HEAD PyObject *owner; /* the LineBuffer */
    ss_linebuf *lb;
    ss_records set;  /* the batch being handed out */
    size_t next;     /* index in set of the next record to hand out */
    uint64_t cursor; /* seq of the newest record handed out (or the start) */
    uint64_t missed; /* records lost to this follower so far */
    double timeout;  /* seconds without a record before the end; < 0: none */
    bool busy;       /* a thread is inside __next__ (GIL released) */
    bool done;
} Follower;

/* A follower stored on its own buffer (buffer.f = buffer.follow()) makes a
 * cycle: the collector breaks it here. A follower waiting in a thread is
 * reachable from that thread's frame, so it is never cleared while busy. */
static int Follower_traverse(Follower *self, visitproc visit, void *arg)
{
    Py_VISIT(self->owner);
    Py_VISIT(Py_TYPE((PyObject *)self));
    return 0;
}

static int Follower_clear(Follower *self)
{
    self->done = true;
    self->lb = NULL;
    ss_records_clear(&self->set);
    Py_CLEAR(self->owner);
    return 0;
}

static void Follower_dealloc(Follower *self)
{
    PyObject_GC_UnTrack(self);
    Follower_clear(self);
    ss__py_free((PyObject *)self);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static PyObject *Follower_next(Follower *self)
{
    if (self->done)
        return NULL;
    if (self->next < self->set.count) {
        const ss_record *rec = &self->set.items[self->next];
        PyObject *r = make_record(rec);
        if (r) {
            self->next++;
            self->cursor = rec->seq;
        }
        return r;
    }
    if (self->busy) {
        PyErr_SetString(PyExc_RuntimeError,
                        "syncstream: this follow() iterator is already waiting in another thread");
        return NULL;
    }
    self->busy = true;
    double deadline = self->timeout >= 0 ? now_s() + self->timeout : 0;
    int rc;
    for (;;) {
        int slice = WAIT_SLICE_MS;
        bool last = false;
        if (self->timeout >= 0) {
            /* The last slice ends at the deadline; a timeout of 0 still reads
             * what is there. */
            double left_ms = (deadline - now_s()) * 1000;
            if (left_ms <= slice) {
                slice = left_ms > 0 ? (int)left_ms + 1 : 0;
                last = true;
            }
        }
        Py_BEGIN_ALLOW_THREADS rc =
            ss_linebuf_follow(self->lb, self->cursor, FOLLOW_BATCH, slice, &self->set);
        Py_END_ALLOW_THREADS if (rc != -ETIMEDOUT || last) break;
        if (PyErr_CheckSignals() < 0) {
            self->busy = false;
            return NULL;
        }
    }
    self->busy = false;
    self->next = 0;
    if (rc == -ETIMEDOUT || rc == SS_ECLOSED) {
        /* The end of the stream: no record within the timeout, or the buffer
         * was closed. */
        self->done = true;
        ss_records_clear(&self->set);
        return NULL;
    }
    if (rc < 0)
        return ss__py_error(rc, "LineBuffer");
    self->missed += self->set.missed;
    return Follower_next(self);
}

static PyObject *Follower_get_cursor(Follower *self, void *unused)
{
    return PyLong_FromUnsignedLongLong(self->cursor);
}

static PyObject *Follower_get_missed(Follower *self, void *unused)
{
    return PyLong_FromUnsignedLongLong(self->missed);
}

static PyGetSetDef Follower_getset[] = {
    {"cursor", GETTER(Follower_get_cursor), NULL,
     "The seq of the last record handed out (the start cursor before the first):\n"
     "follow(cursor=it.cursor) or records(since=it.cursor) goes on from there.",
     NULL},
    {"missed", GETTER(Follower_get_missed), NULL,
     "How many records this follower lost: they left the buffer (rotated out or\n"
     "cleared) before it read them.",
     NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot Follower_slots[] = {
    {Py_tp_doc, (void *)"The iterator LineBuffer.follow() returns: the records stored after its\n"
                        "cursor, as they arrive."},
    {Py_tp_dealloc, Follower_dealloc},
    {Py_tp_traverse, Follower_traverse},
    {Py_tp_clear, Follower_clear},
    {Py_tp_iter, PyObject_SelfIter},
    {Py_tp_iternext, Follower_next},
    {Py_tp_getset, Follower_getset},
    {0, NULL},
};

static PyType_Spec Follower_spec = {
    .name = "syncstream._core.Follower",
    .basicsize = sizeof(Follower),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION | Py_TPFLAGS_HAVE_GC,
    .slots = Follower_slots,
};

PyObject *ss__py_linebuf_follow(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"cursor", "timeout", NULL};
    PyObject *cursor_obj = NULL, *timeout_obj = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OO:follow", kwlist, &cursor_obj, &timeout_obj))
        return NULL;
    unsigned long long cursor;
    if (parse_count(cursor_obj, "follow() cursor", &cursor) < 0)
        return NULL;
    double timeout = -1;
    if (timeout_obj && timeout_obj != Py_None) {
        if (!PyLong_Check(timeout_obj) && !PyFloat_Check(timeout_obj)) {
            ss__py_type_error("follow() timeout", "a number or None", timeout_obj);
            return NULL;
        }
        timeout = PyFloat_AsDouble(timeout_obj);
        if (timeout == -1 && PyErr_Occurred())
            return NULL;
        if (!(timeout >= 0) || timeout > 1e9) {
            PyErr_Format(PyExc_ValueError,
                         "syncstream: follow() timeout must be from 0 to 1e9 seconds or None, "
                         "not %R",
                         timeout_obj);
            return NULL;
        }
    }
    ss_linebuf *lb = ss__py_linebuf_get(self);
    if (!lb)
        return NULL;
    size_t n;
    int rc = ss_linebuf_len(lb, &n);
    if (rc < 0)
        return ss__py_error(rc, "LineBuffer");
    /* tp_alloc zeroes the object and starts tracking it for the collector. */
    allocfunc alloc = PyType_GetSlot((PyTypeObject *)follower_type, Py_tp_alloc);
    Follower *f = (Follower *)alloc((PyTypeObject *)follower_type, 0);
    if (!f)
        return NULL;
    f->owner = Py_NewRef(self);
    f->lb = lb;
    f->cursor = cursor;
    f->timeout = timeout;
    return (PyObject *)f;
}

int ss__py_cursor_add(PyObject *module)
{
    record_type = PyStructSequence_NewType(&record_desc);
    if (!record_type || PyModule_AddObjectRef(module, "Record", (PyObject *)record_type) < 0)
        return -1;
    batch_type = PyStructSequence_NewType(&batch_desc);
    if (!batch_type || PyModule_AddObjectRef(module, "RecordBatch", (PyObject *)batch_type) < 0)
        return -1;
    return ss__py_add_type(module, &Follower_spec, &follower_type);
}
