/*
 * _core.ProcBuffer and _core.ProcMirror: sync-stream's LineProcBuffer and
 * LineProcMirror on an ss_procbuf and its connected mirrors.
 *
 * The buffer listens (ss_procbuf_listen) and its collector thread stores what
 * mirrors send; a mirror holds only the address and connects, from whatever
 * process it finds itself in, on its first use there (ss_mirror_connect). So
 * one design serves every start method: a fork child's copy, a spawn or
 * forkserver child's unpickled copy, a pool worker's, and this process's.
 *
 * Fork: a mirror remembers the fork generation its connection was made in
 * (ss__py_fork_gen, core.h). A copy in a fork child
 * sees another generation and connects anew; its parent's connection is left
 * alone (its mutex may have been held by a thread that does not exist here)
 * except for the fd, which the child closes, so that the parent's end of file
 * does not wait for the child. A buffer's collector thread does not exist in a
 * fork child: every buffer method there raises RuntimeError.
 *
 * The GIL is released around every call that may block (a send on a full
 * connection, the connection's handshake, waits); waits run in slices of
 * WAIT_SLICE_MS with PyErr_CheckSignals between, so that Ctrl-C interrupts them.
 */
#include "core.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <syncstream/common.h>
#include <syncstream/linebuf.h>
#include <syncstream/proc.h>

#include "proc/mirror_int.h"

/* As LineBuffer: a longer line is cut into several records. */
#define PY_MAX_LINE (1u << 20)
#define WAIT_SLICE_MS 50
/* How long a mirror without a timeout waits for the buffer to answer its
 * connection: the collector answers at once unless its process is stuck. */
#define CONNECT_MS 60000

/* ------------------------------------------------------------ ProcBuffer */

typedef struct {
    PyObject_HEAD ss_procbuf *pb;
    pid_t owner;
} ProcBuffer;

/* The procbuf, or NULL with an exception: before __init__, in a fork child. */
static ss_procbuf *get_pb(ProcBuffer *self)
{
    if (!self->pb) {
        ss__py_not_initialized("LineProcBuffer");
        return NULL;
    }
    if (self->owner != getpid()) {
        PyErr_Format(PyExc_RuntimeError,
                     "syncstream: this LineProcBuffer belongs to process %d: "
                     "give child processes its mirror, not the buffer",
                     (int)self->owner);
        return NULL;
    }
    return self->pb;
}

static int ProcBuffer_init(ProcBuffer *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"maxlen", NULL};
    PyObject *maxlen_obj = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:LineProcBuffer", kwlist, &maxlen_obj))
        return -1;
    if (self->pb) {
        PyErr_SetString(PyExc_TypeError, "syncstream: LineProcBuffer.__init__() called twice");
        return -1;
    }
    size_t maxlen;
    if (ss__py_maxlen(maxlen_obj, "LineProcBuffer", &maxlen) < 0)
        return -1;
    ss_procbuf_opts opts = {
        .buf = {.maxlen = maxlen, .max_line = PY_MAX_LINE, .line_flags = SS_LINE_SPLITLINES},
    };
    ss_procbuf *pb;
    int rc = ss_procbuf_new(&pb, &opts);
    char addr[SS_MIRROR_ADDRESS_MAX];
    if (rc == 0 && (rc = ss_procbuf_listen(pb, addr, sizeof(addr))) < 0)
        ss_procbuf_free(pb);
    if (rc < 0)
        return ss__py_error_int(rc, "LineProcBuffer");
    self->pb = pb;
    self->owner = getpid();
    return 0;
}

static void ProcBuffer_dealloc(ProcBuffer *self)
{
    /* In a fork child the collector thread is not there to join: leave it. */
    if (self->pb && self->owner == getpid()) {
        Py_BEGIN_ALLOW_THREADS ss_procbuf_free(self->pb);
        Py_END_ALLOW_THREADS
    }
    ss__py_free((PyObject *)self);
}

static PyObject *ProcBuffer_get_address(ProcBuffer *self, void *unused)
{
    ss_procbuf *pb = get_pb(self);
    if (!pb)
        return NULL;
    char addr[SS_MIRROR_ADDRESS_MAX];
    int rc = ss_procbuf_listen(pb, addr, sizeof(addr));
    return rc < 0 ? ss__py_error(rc, "LineProcBuffer") : PyUnicode_FromString(addr);
}

static PyObject *ProcBuffer_read(ProcBuffer *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"size", NULL};
    PyObject *size_obj = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:read", kwlist, &size_obj))
        return NULL;
    ss_procbuf *pb = get_pb(self);
    size_t size;
    if (!pb || ss__py_size(size_obj, &size) < 0)
        return NULL;
    ss_records set = SS_RECORDS_INIT;
    int rc = ss_linebuf_read(ss_procbuf_linebuf(pb), size, &set);
    if (rc < 0)
        return ss__py_error(rc, "LineProcBuffer");
    PyObject *items = ss__py_items(&set, NULL);
    ss_records_clear(&set);
    return items;
}

static Py_ssize_t ProcBuffer_len(ProcBuffer *self)
{
    ss_procbuf *pb = get_pb(self);
    if (!pb)
        return -1;
    size_t n;
    return ss_linebuf_len(ss_procbuf_linebuf(pb), &n) < 0 ? 0 : (Py_ssize_t)n;
}

static bool buffer_open(ProcBuffer *self)
{
    size_t n;
    return self->pb && ss_linebuf_len(ss_procbuf_linebuf(self->pb), &n) == 0;
}

static PyObject *ProcBuffer_clear(ProcBuffer *self, PyObject *unused)
{
    ss_procbuf *pb = get_pb(self);
    if (!pb)
        return NULL;
    int rc = ss_linebuf_clear(ss_procbuf_linebuf(pb));
    return rc < 0 ? ss__py_error(rc, "LineProcBuffer") : Py_NewRef(Py_None);
}

static PyObject *ProcBuffer_close(ProcBuffer *self, PyObject *unused)
{
    ss_procbuf *pb = get_pb(self);
    if (!pb)
        return NULL;
    ss_linebuf_clear(ss_procbuf_linebuf(pb));
    ss_linebuf_close(ss_procbuf_linebuf(pb));
    Py_RETURN_NONE;
}

static PyObject *ProcBuffer_get_closed(ProcBuffer *self, void *unused)
{
    /* not in a fork child: the buffer's lock may have been held at the fork */
    if (!get_pb(self))
        return NULL;
    return PyBool_FromLong(!buffer_open(self));
}

static PyObject *ProcBuffer_get_maxlen(ProcBuffer *self, void *unused)
{
    if (!self->pb) {
        get_pb(self); /* the exception */
        return NULL;
    }
    return PyLong_FromSize_t(ss_linebuf_maxlen(ss_procbuf_linebuf(self->pb)));
}

/* timeout: None (no limit) or seconds >= 0, as milliseconds (-1: no limit). */
static int parse_timeout(PyObject *obj, long long *ret_ms)
{
    if (!obj || obj == Py_None) {
        *ret_ms = -1;
        return 0;
    }
    double s = PyFloat_AsDouble(obj);
    if (s == -1.0 && PyErr_Occurred())
        return -1;
    if (!(s >= 0) || s > 1e9) {
        PyErr_Format(PyExc_ValueError,
                     "syncstream: timeout must be None or between 0 and 1e9 "
                     "seconds, not %R",
                     obj);
        return -1;
    }
    *ret_ms = (long long)(s * 1000.0);
    return 0;
}

/*
 * _wait(ends_seen, seq_seen=None, timeout=None) -> (ends, last_seq, forced)
 * Block until more than ends_seen ends were counted, a force stop is in force,
 * or (when seq_seen is an int) a record newer than seq_seen was stored, or
 * timeout seconds pass.
 */
static PyObject *ProcBuffer_wait(ProcBuffer *self, PyObject *args)
{
    unsigned long long ends_seen;
    PyObject *seq_obj = Py_None, *timeout_obj = Py_None;
    if (!PyArg_ParseTuple(args, "K|OO:_wait", &ends_seen, &seq_obj, &timeout_obj))
        return NULL;
    ss_procbuf *pb = get_pb(self);
    long long timeout_ms;
    if (!pb || parse_timeout(timeout_obj, &timeout_ms) < 0)
        return NULL;
    bool records = seq_obj != Py_None;
    unsigned long long seq_seen = records ? PyLong_AsUnsignedLongLong(seq_obj) : 0;
    if (seq_seen == (unsigned long long)-1 && PyErr_Occurred())
        return NULL;
    ss_linebuf *lb = ss_procbuf_linebuf(pb);
    long long waited = 0;
    uint64_t ends = 0;
    ss_linebuf_stats st = {0};
    int rc;
    for (;;) {
        rc = ss_procbuf_wait_ends(pb, ends_seen, 0, &ends);
        if (rc != -ETIMEDOUT)
            break;
        if (!buffer_open(self)) {
            rc = SS_ECLOSED;
            break;
        }
        if (records && ss_linebuf_get_stats(lb, &st) == 0 && st.last_seq > seq_seen)
            break;
        if (timeout_ms >= 0 && waited >= timeout_ms)
            break;
        int slice = WAIT_SLICE_MS;
        if (timeout_ms >= 0 && timeout_ms - waited < slice)
            slice = (int)(timeout_ms - waited);
        Py_BEGIN_ALLOW_THREADS if (records) rc = ss_linebuf_wait(lb, seq_seen, slice / 2);
        rc = ss_procbuf_wait_ends(pb, ends_seen, records ? slice - slice / 2 : slice, &ends);
        Py_END_ALLOW_THREADS waited += slice;
        if (PyErr_CheckSignals() < 0)
            return NULL;
    }
    if (rc == SS_ECLOSED)
        return ss__py_error(rc, "LineProcBuffer");
    if (records)
        ss_linebuf_get_stats(lb, &st);
    return Py_BuildValue("(KKO)", (unsigned long long)ends, (unsigned long long)st.last_seq,
                         rc == SS_ESTOPPED ? Py_True : Py_False);
}

static PyObject *ProcBuffer_stop(ProcBuffer *self, PyObject *unused)
{
    ss_procbuf *pb = get_pb(self);
    if (!pb)
        return NULL;
    ss_procbuf_stop(pb);
    Py_RETURN_NONE;
}

static PyObject *ProcBuffer_force_stop(ProcBuffer *self, PyObject *unused)
{
    ss_procbuf *pb = get_pb(self);
    if (!pb)
        return NULL;
    ss_procbuf_force_stop(pb);
    Py_RETURN_NONE;
}

static PyObject *ProcBuffer_reset(ProcBuffer *self, PyObject *unused)
{
    ss_procbuf *pb = get_pb(self);
    if (!pb)
        return NULL;
    int rc = ss_procbuf_reset_flags(pb, SS_PROC_RESET_KEEP_RECORDS);
    return rc < 0 ? ss__py_error(rc, "LineProcBuffer") : Py_NewRef(Py_None);
}

static PyObject *cannot_pickle(PyObject *self, PyObject *unused)
{
    PyErr_SetString(PyExc_TypeError, "syncstream: cannot pickle a LineProcBuffer: give child "
                                     "processes its mirror");
    return NULL;
}

static PyMethodDef ProcBuffer_methods[] = {
    {"read", METH(ProcBuffer_read), METH_VARARGS | METH_KEYWORDS,
     "read(size: int | None = None) -> tuple[str | GroupedMessage, ...]\n--\n\n"
     "The newest size items (all with None), oldest first: a str per line, a\n"
     "GroupedMessage per warning or error. Raises OSError once closed."},
    {"clear", METH(ProcBuffer_clear), METH_NOARGS,
     "clear() -> None\n--\n\nRemove every stored item (mirrors are not affected)."},
    {"close", METH(ProcBuffer_close), METH_NOARGS,
     "close() -> None\n--\n\nEmpty and close the buffer: later calls raise OSError."},
    {"_wait", METH(ProcBuffer_wait), METH_VARARGS,
     "_wait($self, ends_seen, seq_seen=None, timeout=None)\n--\n\n"
     "Internal, returns (ends, last_seq, forced): block until more mirror ends than ends_seen, a "
     "force stop, or\n"
     "(seq_seen not None) a record newer than seq_seen; Ctrl-C interrupts it."},
    {"_stop", METH(ProcBuffer_stop), METH_NOARGS,
     "_stop() -> None\n--\n\nInternal: ask every mirror to stop (ss_procbuf_stop)."},
    {"_force_stop", METH(ProcBuffer_force_stop), METH_NOARGS,
     "_force_stop() -> None\n--\n\nInternal: stop, and end every wait at once."},
    {"_reset", METH(ProcBuffer_reset), METH_NOARGS,
     "_reset() -> None\n--\n\nInternal: lift the stop, drop the mirrors, change the\n"
     "address's secret; the records stay."},
    {"__reduce__", METH(cannot_pickle), METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef ProcBuffer_getset[] = {
    {"maxlen", GETTER(ProcBuffer_get_maxlen), NULL, "The most items the buffer holds.", NULL},
    {"closed", GETTER(ProcBuffer_get_closed), NULL, "Whether close() was called.", NULL},
    {"_address", GETTER(ProcBuffer_get_address), NULL,
     "Internal: the address mirrors connect to (it changes at a reset).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot ProcBuffer_slots[] = {
    {Py_tp_doc, (void *)"ProcBuffer(maxlen: int = 20)\n--\n\n"
                        "The C core of syncstream.LineProcBuffer (use that class)."},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_init, ProcBuffer_init},
    {Py_tp_dealloc, ProcBuffer_dealloc},
    {Py_tp_methods, ProcBuffer_methods},
    {Py_tp_getset, ProcBuffer_getset},
    {Py_sq_length, ProcBuffer_len},
    {Py_nb_bool, ss__py_true},
    {0, NULL},
};

static PyType_Spec ProcBuffer_spec = {
    .name = "syncstream._core.ProcBuffer",
    .basicsize = sizeof(ProcBuffer),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .slots = ProcBuffer_slots,
};

/* ------------------------------------------------------------ ProcMirror */

/* One process's connection of a mirror. Freed with the mirror in the process
 * that made it; a fork child leaves its copy alone (see the top). */
typedef struct {
    pthread_mutex_t mu; /* one sender at a time; held with the GIL released */
    ss_mirror *m;       /* NULL until the first use, and after close */
    int fd;             /* m's fd, for a fork child to close */
    unsigned long gen;
} Conn;

typedef struct {
    PyObject_HEAD PyObject *address; /* str; NULL before __init__ */
    Conn *conn;
    long long timeout_ms; /* -1: none */
    PyObject *timeout;    /* as given: None or a float */
    bool closed;
} ProcMirror;

static void conn_free(Conn *c)
{
    if (c->m)
        ss__mirror_free(c->m);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static int ProcMirror_init(ProcMirror *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"address", "timeout", "closed", NULL};
    PyObject *address, *timeout = Py_None;
    int closed = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "U|O$p:ProcMirror", kwlist, &address, &timeout,
                                     &closed))
        return -1;
    if (self->address) {
        PyErr_SetString(PyExc_TypeError, "syncstream: LineProcMirror.__init__() called twice");
        return -1;
    }
    long long ms;
    if (parse_timeout(timeout, &ms) < 0)
        return -1;
    PyObject *t = timeout == Py_None ? Py_NewRef(Py_None) : PyFloat_FromDouble((double)ms / 1000.0);
    if (!t)
        return -1;
    self->address = Py_NewRef(address);
    self->timeout = t;
    self->timeout_ms = ms;
    self->closed = closed;
    return 0;
}

static void ProcMirror_dealloc(ProcMirror *self)
{
    Conn *c = self->conn;
    if (c && c->gen == ss__py_fork_gen) {
        /* nothing is sent: a mirror dropped without an end counts as one
         * whose process died (the buffer stores a record saying so) */
        conn_free(c);
    } else if (c && c->fd >= 0) {
        close(c->fd);
    }
    Py_XDECREF(self->address);
    Py_XDECREF(self->timeout);
    ss__py_free((PyObject *)self);
}

/* This process's connection (made on first use), or NULL with an exception.
 * With the GIL held. */
static Conn *get_conn(ProcMirror *self)
{
    if (!self->address) {
        ss__py_not_initialized("LineProcMirror");
        return NULL;
    }
    if (self->conn && self->conn->gen == ss__py_fork_gen)
        return self->conn;
    if (self->conn && self->conn->fd >= 0)
        close(self->conn->fd); /* the parent's, copied by fork: see the top */
    self->conn = NULL;
    Conn *c = calloc(1, sizeof(*c));
    if (!c) {
        PyErr_NoMemory();
        return NULL;
    }
    pthread_mutex_init(&c->mu, NULL);
    c->fd = -1;
    c->gen = ss__py_fork_gen;
    self->conn = c;
    return c;
}

/* With c->mu held and the GIL released: connect if not yet. */
static int ensure_connected(Conn *c, const char *address, long long timeout_ms)
{
    if (c->m)
        return 0;
    int rc = ss_mirror_connect(&c->m, address,
                               timeout_ms < 0           ? CONNECT_MS
                               : timeout_ms > INT32_MAX ? INT32_MAX
                                                        : (int)timeout_ms);
    if (rc == 0)
        c->fd = ss__mirror_fd(c->m);
    return rc;
}

enum op { OP_WRITE, OP_NEW_LINE, OP_APPEND, OP_END, OP_CLOSE };

/* Run one mirror operation in this process's connection, with the GIL released. */
static int run_op(ProcMirror *self, enum op op, ss_kind kind, const char *data, size_t len)
{
    Conn *c = get_conn(self);
    if (!c)
        return -1;
    /* valid while self->address lives, which __init__ alone sets */
    const char *address = PyUnicode_AsUTF8AndSize(self->address, NULL);
    if (!address)
        return -1;
    long long timeout_ms = self->timeout_ms;
    int rc;
    Py_BEGIN_ALLOW_THREADS pthread_mutex_lock(&c->mu);
    rc = ensure_connected(c, address, timeout_ms);
    if (rc == 0) {
        switch (op) {
        case OP_WRITE:
            rc = ss_mirror_write(c->m, data, len);
            break;
        case OP_NEW_LINE:
            rc = ss_mirror_new_line(c->m);
            break;
        case OP_APPEND:
            rc = ss_mirror_append(c->m, kind, data, len);
            break;
        case OP_END:
        case OP_CLOSE:
            rc = ss_mirror_end(c->m, data, len);
            break;
        }
    }
    if (op == OP_CLOSE && c->m) {
        ss__mirror_free(c->m);
        c->m = NULL;
        c->fd = -1;
    }
    pthread_mutex_unlock(&c->mu);
    Py_END_ALLOW_THREADS if (rc == SS_ESTOPPED)
    {
        /* sync-stream's exception for a write after stop_all_mirrors() */
        PyErr_SetString(PyExc_StopIteration, "syncstream: The sub-process is terminated by users.");
        return -1;
    }
    if (rc == -EACCES) {
        PyErr_SetString(PyExc_PermissionError,
                        "syncstream: LineProcMirror: the buffer refused this mirror: it was "
                        "reset (reset_states) after the mirror was made");
        return -1;
    }
    return rc < 0 ? ss__py_error_int(rc, "LineProcMirror") : 0;
}

static int check_open(ProcMirror *self)
{
    if (self->closed) {
        ss__py_oserror(EBADF, "syncstream: The mirror is closed.");
        return -1;
    }
    return 0;
}

static PyObject *ProcMirror_write(ProcMirror *self, PyObject *arg)
{
    if (check_open(self) < 0)
        return NULL;
    const char *data;
    Py_ssize_t len;
    PyObject *keep;
    if (ss__py_utf8(arg, "write() argument", &data, &len, &keep) < 0)
        return NULL;
    int rc = run_op(self, OP_WRITE, SS_KIND_LINE, data, (size_t)len);
    Py_XDECREF(keep);
    return rc < 0 ? NULL : PyLong_FromSsize_t(PyUnicode_GetLength(arg));
}

static PyObject *ProcMirror_new_line(ProcMirror *self, PyObject *unused)
{
    if (check_open(self) < 0 || run_op(self, OP_NEW_LINE, SS_KIND_LINE, NULL, 0) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* Optional text (None or a str) as UTF-8; data NULL for None. */
static int opt_text(PyObject *obj, const char **data, Py_ssize_t *len, PyObject **keep)
{
    *data = NULL;
    *len = 0;
    *keep = NULL;
    if (obj == Py_None)
        return 0;
    return ss__py_utf8(obj, "text", data, len, keep);
}

static PyObject *ProcMirror_append(ProcMirror *self, PyObject *args)
{
    const char *kind_name;
    PyObject *text;
    if (!PyArg_ParseTuple(args, "sU:_append", &kind_name, &text))
        return NULL;
    if (strcmp(kind_name, "warning") != 0) {
        PyErr_SetString(PyExc_ValueError, "syncstream: _append() kind must be \"warning\"");
        return NULL;
    }
    /* sync-stream: a closed mirror sends nothing and says nothing */
    if (self->closed)
        Py_RETURN_NONE;
    const char *data;
    Py_ssize_t len;
    PyObject *keep;
    if (opt_text(text, &data, &len, &keep) < 0)
        return NULL;
    int rc = run_op(self, OP_APPEND, SS_KIND_WARNING, data, (size_t)len);
    Py_XDECREF(keep);
    return rc < 0 ? NULL : Py_NewRef(Py_None);
}

static PyObject *end_or_close(ProcMirror *self, PyObject *args, enum op op)
{
    PyObject *text = Py_None;
    if (!PyArg_ParseTuple(args, op == OP_END ? "|O:_end" : "|O:_close", &text))
        return NULL;
    if (self->closed)
        Py_RETURN_NONE;
    const char *data;
    Py_ssize_t len;
    PyObject *keep;
    if (opt_text(text, &data, &len, &keep) < 0)
        return NULL;
    if (op == OP_CLOSE)
        self->closed = true;
    int rc = run_op(self, op, SS_KIND_ERROR, data, (size_t)len);
    Py_XDECREF(keep);
    return rc < 0 ? NULL : Py_NewRef(Py_None);
}

static PyObject *ProcMirror_end(ProcMirror *self, PyObject *args)
{
    return end_or_close(self, args, OP_END);
}

static PyObject *ProcMirror_close(ProcMirror *self, PyObject *args)
{
    return end_or_close(self, args, OP_CLOSE);
}

/* The partial line of this process's connection ("" before any). */
static PyObject *ProcMirror_read(ProcMirror *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"size", NULL};
    PyObject *size_obj = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:read", kwlist, &size_obj))
        return NULL;
    size_t size;
    if (ss__py_size(size_obj, &size) < 0 || check_open(self) < 0)
        return NULL;
    Conn *c = get_conn(self);
    if (!c)
        return NULL;
    PyObject *text = NULL;
    Py_BEGIN_ALLOW_THREADS pthread_mutex_lock(&c->mu);
    Py_END_ALLOW_THREADS const char *part = "";
    size_t len = 0;
    if (c->m)
        ss__mirror_partial(c->m, &part, &len);
    text = ss__py_str(part, len);
    pthread_mutex_unlock(&c->mu);
    if (text && size != SS_READ_ALL && (size_t)PyUnicode_GetLength(text) > size) {
        PyObject *cut = PyUnicode_Substring(text, 0, (Py_ssize_t)size);
        Py_DECREF(text);
        text = cut;
    }
    return text;
}

static PyObject *ProcMirror_clear(ProcMirror *self, PyObject *unused)
{
    Conn *c = get_conn(self);
    if (!c)
        return NULL;
    Py_BEGIN_ALLOW_THREADS pthread_mutex_lock(&c->mu);
    if (c->m)
        ss__mirror_clear(c->m);
    pthread_mutex_unlock(&c->mu);
    Py_END_ALLOW_THREADS Py_RETURN_NONE;
}

static PyObject *ProcMirror_flush(ProcMirror *self, PyObject *unused)
{
    Py_RETURN_NONE;
}

static PyObject *ProcMirror_get_closed(ProcMirror *self, void *unused)
{
    return PyBool_FromLong(self->closed);
}

static PyObject *ProcMirror_readable(ProcMirror *self, PyObject *unused)
{
    return PyBool_FromLong(!self->closed);
}

static PyObject *ProcMirror_get_address(ProcMirror *self, void *unused)
{
    if (!self->address) {
        ss__py_not_initialized("LineProcMirror");
        return NULL;
    }
    return Py_NewRef(self->address);
}

static PyObject *ProcMirror_get_timeout(ProcMirror *self, void *unused)
{
    return Py_NewRef(self->timeout ? self->timeout : Py_None);
}

static int ProcMirror_set_timeout(ProcMirror *self, PyObject *value, void *unused)
{
    long long ms;
    if (!value) {
        PyErr_SetString(PyExc_AttributeError, "syncstream: timeout cannot be deleted");
        return -1;
    }
    if (parse_timeout(value, &ms) < 0)
        return -1;
    PyObject *t =
        value == Py_None ? Py_NewRef(Py_None) : PyFloat_FromDouble(PyFloat_AsDouble(value));
    if (!t)
        return -1;
    PyObject *old = self->timeout;
    self->timeout = t;
    Py_XDECREF(old);
    self->timeout_ms = ms;
    return 0;
}

static PyMethodDef ProcMirror_methods[] = {
    {"write", METH(ProcMirror_write), METH_O,
     "write(data: str) -> int\n--\n\n"
     "Write text. Every completed line is sent to the buffer at once, whole; the\n"
     "rest stays here as the partial line. Returns the number of characters.\n"
     "Raises StopIteration after the buffer's stop_all_mirrors() or force_stop(),\n"
     "OSError once closed, BrokenPipeError when the buffer is gone or was reset."},
    {"new_line", METH(ProcMirror_new_line), METH_NOARGS,
     "new_line() -> None\n--\n\nSend the partial line, if any, as a line."},
    {"_append", METH(ProcMirror_append), METH_VARARGS,
     "_append(kind: str, text: str) -> None\n--\n\n"
     "Internal: send the partial line, then text as one warning record."},
    {"_end", METH(ProcMirror_end), METH_VARARGS,
     "_end(error_text: str | None = None) -> None\n--\n\n"
     "Internal: send the partial line, error_text as an error record if given,\n"
     "then an end, which the buffer's wait() counts. Not refused by a stop."},
    {"_close", METH(ProcMirror_close), METH_VARARGS,
     "_close(error_text: str | None = None) -> None\n--\n\n"
     "Internal: _end(), then close the mirror and its connection."},
    {"read", METH(ProcMirror_read), METH_VARARGS | METH_KEYWORDS,
     "read(size: int | None = None) -> str\n--\n\n"
     "The partial line not sent yet (its first size characters)."},
    {"clear", METH(ProcMirror_clear), METH_NOARGS,
     "clear() -> None\n--\n\nDrop the partial line not sent yet."},
    {"flush", METH(ProcMirror_flush), METH_NOARGS,
     "flush() -> None\n--\n\nDo nothing: completed lines are sent at once; a partial\n"
     "line waits for its end, as in sync-stream."},
    {"readable", METH(ProcMirror_readable), METH_NOARGS,
     "readable() -> bool\n--\n\nTrue until the mirror is closed."},
    {"writable", METH(ProcMirror_readable), METH_NOARGS,
     "writable() -> bool\n--\n\nTrue until the mirror is closed."},
    SS_PY_NOT_A_FILE_METHODS,
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef ProcMirror_getset[] = {
    {"closed", GETTER(ProcMirror_get_closed), NULL, "Whether close() was called.", NULL},
    {"_address", GETTER(ProcMirror_get_address), NULL, "Internal: the buffer's address.", NULL},
    {"timeout", GETTER(ProcMirror_get_timeout), SETTER(ProcMirror_set_timeout),
     "None or seconds: how long the first use in a process waits for the buffer\n"
     "to accept the mirror (None: 60 s). Writes are not bounded by it: the\n"
     "buffer's collector takes what mirrors send without delay.",
     NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot ProcMirror_slots[] = {
    {Py_tp_doc, (void *)"ProcMirror(address: str, timeout: float | None = None, *, closed: bool = "
                        "False)\n--\n\n"
                        "The C core of syncstream.LineProcMirror (use LineProcBuffer.mirror)."},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_init, ProcMirror_init},
    {Py_tp_dealloc, ProcMirror_dealloc},
    {Py_tp_methods, ProcMirror_methods},
    {Py_tp_getset, ProcMirror_getset},
    {0, NULL},
};

static PyType_Spec ProcMirror_spec = {
    .name = "syncstream._core.ProcMirror",
    .basicsize = sizeof(ProcMirror),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .slots = ProcMirror_slots,
};

int ss__py_procbuf_add(PyObject *module)
{
    if (ss__py_fork_watch() < 0)
        return -1;
    if (ss__py_add_type(module, &ProcBuffer_spec, NULL) < 0)
        return -1;
    return ss__py_add_type(module, &ProcMirror_spec, NULL);
}
