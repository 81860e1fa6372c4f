/*
 * _core.LineBuffer: sync-stream's LineBuffer on an ss_linebuf.
 *
 * Per-thread partial lines (the default). Each Python thread writes through
 * its own ss_writer, so that two threads' unterminated writes never mix into
 * one line. The writer lives in a capsule stored in a threading.local (the
 * "slots" object), so that it is closed, and its partial line stored as a
 * record, when its thread ends; the buffer's deallocation clears the slots,
 * closing the remaining writers before the ss_linebuf is freed. The view a
 * thread reads is sync-stream's with that thread's own partial line as the
 * newest item.
 *
 * Shared partial line (per_thread=False): every thread writes through the
 * buffer's default writer, as sync-stream's single StringIO.
 *
 * The GIL is held across writes shorter than BIG_WRITE: they wait for nothing
 * but the buffer's mutex, which no holder keeps while waiting for the GIL, and
 * releasing the GIL would cost more than the write (print() is the hot path).
 * Longer writes release it.
 */
#include "core.h"

#include <stdbool.h>
#include <string.h>

#include <syncstream/common.h>
#include <syncstream/linebuf.h>

#include "linebuf/linebuf_int.h"

/* A line longer than this is cut into several records (sync-stream keeps any
 * length): large enough for any printed line, and only touched memory counts. */
#define PY_MAX_LINE (1u << 20)
#define BIG_WRITE (64 * 1024)
#define WRITER_CAPSULE "syncstream._core.writer"

typedef struct {
    PyObject_HEAD ss_linebuf *lb; /* NULL until __init__ */
    PyObject *slots;              /* per_thread: a _WriterSlot; its "w" is this thread's capsule */
    ss_writer *cached;            /* the writer of cached_ident's thread, NULL if unknown */
    unsigned long cached_ident;
    bool per_thread;
    PyObject *bound; /* the pre-bound write (bound.c); None: not bound */
} LineBuffer;

static PyObject *slot_type; /* class _WriterSlot(threading.local): w = None */
static PyObject *linebuf_type;
static PyObject *str_w; /* "w" */

/* The writer of a thread that ended (or of a buffer being freed): its partial
 * line becomes a record, as if the thread had ended it. */
static void writer_capsule_free(PyObject *capsule)
{
    ss_writer *w = PyCapsule_GetPointer(capsule, WRITER_CAPSULE);
    LineBuffer *self = PyCapsule_GetContext(capsule);
    if (self && self->cached == w)
        self->cached = NULL;
    ss_writer_close(w);
}

/* The ss_linebuf, or NULL with an exception if __init__ never ran. */
static ss_linebuf *get_lb(LineBuffer *self)
{
    if (!self->lb)
        ss__py_not_initialized("LineBuffer");
    return self->lb;
}

ss_linebuf *ss__py_linebuf_get(PyObject *obj)
{
    if (!PyObject_TypeCheck(obj, (PyTypeObject *)linebuf_type)) {
        ss__py_type_error("the buffer", "a LineBuffer", obj);
        return NULL;
    }
    return get_lb((LineBuffer *)obj);
}

/*
 * The calling thread's writer in *ret: created when create is true, else NULL
 * when the thread never wrote. Returns 0, or -1 with an exception.
 */
static int thread_writer(LineBuffer *self, bool create, ss_writer **ret)
{
    unsigned long ident = PyThread_get_thread_ident();
    if (self->cached && self->cached_ident == ident) {
        *ret = self->cached;
        return 0;
    }
    PyObject *capsule = PyObject_GetAttr(self->slots, str_w);
    if (!capsule)
        return -1;
    ss_writer *w = NULL;
    if (capsule != Py_None) {
        w = PyCapsule_GetPointer(capsule, WRITER_CAPSULE);
        Py_DECREF(capsule);
        if (!w)
            return -1;
    } else if (create) {
        Py_DECREF(capsule);
        int rc = ss_writer_new(&w, self->lb, NULL, 0);
        if (rc < 0)
            return ss__py_error_int(rc, "LineBuffer");
        capsule = PyCapsule_New(w, WRITER_CAPSULE, writer_capsule_free);
        if (!capsule) {
            ss_writer_close(w);
            return -1;
        }
        /* The capsule now closes the writer, whatever happens next. */
        int set = PyCapsule_SetContext(capsule, self);
        if (set == 0)
            set = PyObject_SetAttr(self->slots, str_w, capsule);
        Py_DECREF(capsule);
        if (set < 0)
            return -1;
    } else {
        Py_DECREF(capsule);
    }
    if (w) {
        self->cached = w;
        self->cached_ident = ident;
    }
    *ret = w;
    return 0;
}

#define WRITE_DOC                                                                                  \
    "write(data: str) -> int\n--\n\n"                                                              \
    "Write text. Every completed line (ended as str.splitlines ends lines) becomes\n"              \
    "a record; the rest stays as the calling thread's partial line. Returns the\n"                 \
    "number of characters written. Raises TypeError for anything but a str and\n"                  \
    "OSError once the buffer is closed."

/* As a PyCFunction exactly: ss__py_bound_call calls it through that type. */
static PyObject *LineBuffer_write(PyObject *op, PyObject *arg);
static PyMethodDef bound_write_def = {"write", ss__py_bound_call, METH_O, WRITE_DOC};

static int LineBuffer_init(LineBuffer *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"maxlen", "per_thread", NULL};
    PyObject *maxlen_obj = NULL;
    int per_thread = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O$p:LineBuffer", kwlist, &maxlen_obj,
                                     &per_thread))
        return -1;
    if (self->lb) {
        PyErr_SetString(PyExc_TypeError, "syncstream: LineBuffer.__init__() called twice");
        return -1;
    }
    size_t maxlen;
    if (ss__py_maxlen(maxlen_obj, "LineBuffer", &maxlen) < 0)
        return -1;
    if (per_thread) {
        self->slots = PyObject_CallNoArgs(slot_type);
        if (!self->slots)
            return -1;
    }
    ss_linebuf_opts opts = {
        .maxlen = maxlen,
        .max_line = PY_MAX_LINE,
        /* Lines end where Python's str.splitlines ends them, as in sync-stream. */
        .line_flags = SS_LINE_SPLITLINES,
    };
    ss_linebuf *lb;
    int rc = ss_linebuf_new(&lb, &opts);
    if (rc < 0) {
        Py_CLEAR(self->slots);
        return ss__py_error_int(rc, "LineBuffer");
    }
    self->lb = lb;
    self->per_thread = per_thread;
    self->bound =
        ss__py_bind_write((PyObject *)self, linebuf_type, &bound_write_def, LineBuffer_write);
    return self->bound ? 0 : -1;
}

static void LineBuffer_dealloc(LineBuffer *self)
{
    ss__py_unbind(&self->bound);
    /* First the writers (clearing the slots closes them), then their buffer. */
    Py_CLEAR(self->slots);
    ss_linebuf_free(self->lb);
    ss__py_free((PyObject *)self);
}

/* One write of len bytes through the calling thread's writer, or the shared one. */
static int write_bytes(LineBuffer *self, const char *data, Py_ssize_t len)
{
    ss_writer *w = NULL;
    if (self->per_thread && thread_writer(self, true, &w) < 0)
        return -1;
    int rc;
    if (len < BIG_WRITE) {
        rc = w ? ss_writer_write(w, data, (size_t)len)
               : ss_linebuf_write(self->lb, data, (size_t)len);
    } else {
        Py_BEGIN_ALLOW_THREADS rc = w ? ss_writer_write(w, data, (size_t)len)
                                      : ss_linebuf_write(self->lb, data, (size_t)len);
        Py_END_ALLOW_THREADS
    }
    return rc < 0 ? ss__py_error_int(rc, "LineBuffer") : 0;
}

static PyObject *LineBuffer_write(PyObject *op, PyObject *arg)
{
    LineBuffer *self = (LineBuffer *)op;
    if (!get_lb(self))
        return NULL;
    const char *data;
    Py_ssize_t len;
    PyObject *keep;
    if (ss__py_utf8(arg, "write() argument", &data, &len, &keep) < 0)
        return NULL;
    int rc = write_bytes(self, data, len);
    Py_XDECREF(keep);
    if (rc < 0)
        return NULL;
    return PyLong_FromSsize_t(PyUnicode_GetLength(arg));
}

static PyObject *LineBuffer_append(LineBuffer *self, PyObject *args)
{
    const char *kind_name;
    PyObject *text;
    if (!PyArg_ParseTuple(args, "sO:_append", &kind_name, &text) || !get_lb(self))
        return NULL;
    ss_kind kind;
    if (ss__py_kind(kind_name, &kind) < 0)
        return NULL;
    ss_writer *w = NULL;
    if (self->per_thread && thread_writer(self, true, &w) < 0)
        return NULL;
    const char *data;
    Py_ssize_t len;
    PyObject *keep;
    if (ss__py_utf8(text, "_append() text", &data, &len, &keep) < 0)
        return NULL;
    int rc = w ? ss_writer_append(w, kind, data, (size_t)len)
               : ss_linebuf_append(self->lb, kind, data, (size_t)len);
    Py_XDECREF(keep);
    if (rc < 0)
        return ss__py_error(rc, "LineBuffer");
    Py_RETURN_NONE;
}

static PyObject *LineBuffer_read(LineBuffer *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"size", NULL};
    PyObject *size_obj = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:read", kwlist, &size_obj))
        return NULL;
    ss_linebuf *lb = get_lb(self);
    size_t size;
    if (!lb || ss__py_size(size_obj, &size) < 0)
        return NULL;

    /* This thread's partial line, if any, is the newest item of the view. */
    const char *part = NULL;
    size_t part_len = 0;
    ss_writer *w = NULL;
    if (self->per_thread && thread_writer(self, false, &w) < 0)
        return NULL;
    if (w)
        ss__writer_partial(w, &part, &part_len);
    size_t n = size;
    if (part_len > 0 && size > 0) {
        size_t room = ss_linebuf_maxlen(lb) - 1;
        n = size - 1 < room ? size - 1 : room;
    }

    ss_records set = SS_RECORDS_INIT;
    int rc = ss_linebuf_read(lb, n, &set);
    if (rc < 0)
        return ss__py_error(rc, "LineBuffer");
    PyObject *extra = NULL;
    if (part_len > 0 && size > 0) {
        extra = ss__py_str(part, part_len);
        if (!extra) {
            ss_records_clear(&set);
            return NULL;
        }
    }
    PyObject *items = ss__py_items(&set, extra);
    ss_records_clear(&set);
    return items;
}

/* _partial(): the calling thread's partial line (the shared one with
 * per_thread=False), "" if none. */
static PyObject *LineBuffer_partial(LineBuffer *self, PyObject *unused)
{
    ss_linebuf *lb = get_lb(self);
    if (!lb)
        return NULL;
    if (self->per_thread) {
        ss_writer *w = NULL;
        if (thread_writer(self, false, &w) < 0)
            return NULL;
        const char *part = "";
        size_t len = 0;
        if (w)
            ss__writer_partial(w, &part, &len);
        return ss__py_str(part, len);
    }
    /* The newest item of the view is the shared partial line if it has one. */
    ss_records set = SS_RECORDS_INIT;
    int rc = ss_linebuf_read(lb, 1, &set);
    if (rc < 0)
        return ss__py_error(rc, "LineBuffer");
    bool partial = set.count == 1 && (set.items[0].flags & SS_REC_PARTIAL);
    PyObject *text = partial ? ss__py_str(set.items[0].text, set.items[0].len) : ss__py_str("", 0);
    ss_records_clear(&set);
    return text;
}

static Py_ssize_t LineBuffer_len(LineBuffer *self)
{
    ss_linebuf *lb = get_lb(self);
    if (!lb)
        return -1;
    size_t n;
    /* A closed buffer holds nothing. */
    if (ss_linebuf_len(lb, &n) < 0)
        return 0;
    ss_writer *w = NULL;
    if (self->per_thread && thread_writer(self, false, &w) < 0)
        return -1;
    if (w) {
        const char *part;
        size_t part_len;
        ss__writer_partial(w, &part, &part_len);
        if (part_len > 0 && n < ss_linebuf_maxlen(lb))
            n++;
    }
    return (Py_ssize_t)n;
}

static bool is_open(LineBuffer *self)
{
    size_t n;
    return self->lb && ss_linebuf_len(self->lb, &n) == 0;
}

static PyObject *LineBuffer_new_line(LineBuffer *self, PyObject *unused)
{
    if (!get_lb(self))
        return NULL;
    ss_writer *w = NULL;
    if (self->per_thread && thread_writer(self, false, &w) < 0)
        return NULL;
    int rc;
    if (!self->per_thread)
        rc = ss_linebuf_new_line(self->lb);
    else if (w)
        rc = ss_writer_new_line(w);
    else
        rc = is_open(self) ? 0 : SS_ECLOSED;
    if (rc < 0)
        return ss__py_error(rc, "LineBuffer");
    Py_RETURN_NONE;
}

static PyObject *LineBuffer_clear(LineBuffer *self, PyObject *unused)
{
    if (!get_lb(self))
        return NULL;
    ss_writer *w = NULL;
    if (self->per_thread && thread_writer(self, false, &w) < 0)
        return NULL;
    int rc = ss_linebuf_clear(self->lb);
    if (rc < 0)
        return ss__py_error(rc, "LineBuffer");
    if (w)
        ss__writer_reset(w);
    Py_RETURN_NONE;
}

static PyObject *LineBuffer_flush(LineBuffer *self, PyObject *unused)
{
    if (!get_lb(self))
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *LineBuffer_close(LineBuffer *self, PyObject *unused)
{
    if (!get_lb(self))
        return NULL;
    /* As sync-stream: the content goes, then the buffer closes; once only. */
    ss_linebuf_clear(self->lb);
    ss_linebuf_close(self->lb);
    Py_RETURN_NONE;
}

static PyObject *LineBuffer_get_closed(LineBuffer *self, void *unused)
{
    return PyBool_FromLong(!is_open(self));
}

static PyObject *LineBuffer_readable(LineBuffer *self, PyObject *unused)
{
    return PyBool_FromLong(is_open(self));
}

static PyObject *LineBuffer_get_maxlen(LineBuffer *self, void *unused)
{
    ss_linebuf *lb = get_lb(self);
    return lb ? PyLong_FromSize_t(ss_linebuf_maxlen(lb)) : NULL;
}

static PyObject *LineBuffer_get_per_thread(LineBuffer *self, void *unused)
{
    return PyBool_FromLong(self->per_thread);
}

static PyMethodDef LineBuffer_methods[] = {
    {"write", LineBuffer_write, METH_O, WRITE_DOC},
    {"_append", METH(LineBuffer_append), METH_VARARGS,
     "_append(kind: str, text: str) -> None\n--\n\n"
     "End the calling thread's partial line, then store text as one record of\n"
     "kind \"warning\" or \"error\" (send_warning() and send_error() call it)."},
    {"read", METH(LineBuffer_read), METH_VARARGS | METH_KEYWORDS,
     "read(size: int | None = None) -> tuple[str | GroupedMessage, ...]\n--\n\n"
     "The newest size items (all with None), oldest first, as a tuple: a str per\n"
     "line, a syncstream.GroupedMessage per warning or error, then the calling\n"
     "thread's partial line if it is not empty. At most maxlen items; size <= 0\n"
     "gives (). Raises OSError once closed."},
    {"records", METH(ss__py_linebuf_records), METH_VARARGS | METH_KEYWORDS,
     "records(since: int = 0, limit: int | None = None) -> RecordBatch\n--\n\n"
     "The stored records with seq > since, oldest first, at most limit of them, as\n"
     "RecordBatch(records, cursor, missed): pass cursor as since= to the next call\n"
     "to get only newer records; missed counts the records newer than since that\n"
     "left the buffer (rotated out or cleared) unseen. Partial lines are not\n"
     "records. Raises OSError once closed."},
    {"follow", METH(ss__py_linebuf_follow), METH_VARARGS | METH_KEYWORDS,
     "follow(cursor: int = 0, timeout: float | None = None) -> Iterator[Record]\n--\n\n"
     "An iterator over the records with seq > cursor, stored ones first, then\n"
     "each new one as it arrives: iterating blocks (the GIL released) until one\n"
     "does. It ends when the buffer is closed, or when no record arrives for\n"
     "timeout seconds (None: wait for ever). Ctrl-C interrupts the wait. Its\n"
     "cursor and missed attributes say where it is and how many records it lost\n"
     "to rotation. Raises OSError if the buffer is already closed."},
    {"_partial", METH(LineBuffer_partial), METH_NOARGS,
     "_partial() -> str\n--\n\n"
     "The calling thread's partial line (the shared one with per_thread=False),\n"
     "\"\" if there is none. Raises OSError once closed."},
    {"new_line", METH(LineBuffer_new_line), METH_NOARGS,
     "new_line() -> None\n--\n\n"
     "End the calling thread's partial line if it is not empty (as writing \"\\n\")."},
    {"clear", METH(LineBuffer_clear), METH_NOARGS,
     "clear() -> None\n--\n\n"
     "Remove every stored line and the calling thread's partial line. Other\n"
     "threads' partial lines are theirs and stay."},
    {"flush", METH(LineBuffer_flush), METH_NOARGS,
     "flush() -> None\n--\n\nDo nothing: every write is already in the buffer."},
    {"close", METH(LineBuffer_close), METH_NOARGS,
     "close() -> None\n--\n\n"
     "Empty and close the buffer: later reads and writes raise OSError. A second\n"
     "call does nothing."},
    {"readable", METH(LineBuffer_readable), METH_NOARGS,
     "readable() -> bool\n--\n\nTrue until the buffer is closed."},
    {"writable", METH(LineBuffer_readable), METH_NOARGS,
     "writable() -> bool\n--\n\nTrue until the buffer is closed."},
    SS_PY_NOT_A_FILE_METHODS,
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef LineBuffer_getset[] = {
    {"maxlen", GETTER(LineBuffer_get_maxlen), NULL,
     "The most items the buffer holds (stored lines plus the partial line).", NULL},
    {"closed", GETTER(LineBuffer_get_closed), NULL, "Whether close() was called.", NULL},
    {"per_thread", GETTER(LineBuffer_get_per_thread), NULL,
     "Whether each thread has its own partial line (LineBuffer(per_thread=False)\n"
     "shares one, as sync-stream does).",
     NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyDoc_STRVAR(LineBuffer_doc,
             "LineBuffer(maxlen: int = 20, *, per_thread: bool = True)\n"
             "--\n\n"
             "A thread-safe, bounded buffer of text lines, sync-stream's LineBuffer on the\n"
             "C library's ss_linebuf.\n\n"
             "Text written (write(), print(file=...), a redirected sys.stdout) is split into\n"
             "lines; the newest maxlen items are kept. read() returns them as a tuple of str,\n"
             "the calling thread's unfinished (partial) line last.\n\n"
             "per_thread=True (the default): each thread has its own partial line, so two\n"
             "threads' unterminated writes never mix into one line. per_thread=False: one\n"
             "partial line shared by every thread, as in sync-stream.\n\n"
             "Beyond sync-stream: iterating a buffer gives its stored records\n"
             "(syncstream.Record: seq, time, source, kind, text), oldest first;\n"
             "records(since=cursor) reads the records after a cursor and follow() waits\n"
             "for new ones.");

static PyObject *LineBuffer_getattro(LineBuffer *self, PyObject *name)
{
    return ss__py_bound_getattr((PyObject *)self, name, self->bound);
}

static int LineBuffer_setattro(LineBuffer *self, PyObject *name, PyObject *value)
{
    return ss__py_bound_setattr((PyObject *)self, name, value, &self->bound);
}

static PyType_Slot LineBuffer_slots[] = {
    {Py_tp_getattro, LineBuffer_getattro},
    {Py_tp_setattro, LineBuffer_setattro},
    {Py_tp_doc, (void *)LineBuffer_doc},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_init, LineBuffer_init},
    {Py_tp_dealloc, LineBuffer_dealloc},
    {Py_tp_methods, LineBuffer_methods},
    {Py_tp_getset, LineBuffer_getset},
    {Py_sq_length, LineBuffer_len},
    {Py_tp_iter, ss__py_linebuf_iter},
    {Py_nb_bool, ss__py_true},
    {0, NULL},
};

static PyType_Spec LineBuffer_spec = {
    .name = "syncstream._core.LineBuffer",
    .basicsize = sizeof(LineBuffer),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .slots = LineBuffer_slots,
};

int ss__py_linebuf_add(PyObject *module)
{
    str_w = PyUnicode_InternFromString("w");
    if (!str_w)
        return -1;
    PyObject *thread_mod = PyImport_ImportModule("_thread");
    if (!thread_mod)
        return -1;
    PyObject *local_type = PyObject_GetAttrString(thread_mod, "_local");
    Py_DECREF(thread_mod);
    if (!local_type)
        return -1;
    slot_type = PyObject_CallFunction((PyObject *)&PyType_Type, "s(O){sOss}", "_WriterSlot",
                                      local_type, "w", Py_None, "__module__", "syncstream._core");
    Py_DECREF(local_type);
    if (!slot_type)
        return -1;
    return ss__py_add_type(module, &LineBuffer_spec, &linebuf_type);
}
