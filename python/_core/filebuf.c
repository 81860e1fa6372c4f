/*
 * _core.FileBuffer: the C half of syncstream.LineFileBuffer, on an ss_filebuf.
 *
 * One handle per object, written through the handle's default writer (the
 * library's mutex makes every call thread-safe). Every library call that may
 * wait releases the GIL: each may wait for the file lock another process
 * holds. A write that completes no record (7 of print()'s 8 calls a line)
 * waits for nothing and touches no file (ss__filebuf_write_nowait): it keeps
 * the GIL, since releasing and taking it back would cost more than the write.
 *
 * Fork: a child that inherits a handle shares its open file description, and
 * with it the file lock, with the parent, so the two would no longer exclude
 * each other. The first call in a new process (another fork generation)
 * therefore opens the file again and leaves the inherited handle alone (never
 * freed: another thread of the parent may have held its mutex at the fork).
 * The child starts with an empty partial line.
 */
#include "core.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <syncstream/common.h>
#include <syncstream/filebuf.h>

#include "file/filebuf_int.h"

#define WHAT "LineFileBuffer"
/* As LineBuffer: a longer line is cut into several records. */
#define PY_MAX_LINE (1u << 20)

typedef struct {
    PyObject_HEAD ss_filebuf *fb; /* NULL until __init__ */
    char *path;
    char *source;
    size_t maxlen;
    unsigned long gen; /* the fork generation that opened fb */
    PyObject *bound;   /* the pre-bound write (bound.c); None: not bound */
} FileBuffer;

static PyObject *filebuf_type;

static int open_fb(FileBuffer *self)
{
    ss_filebuf_opts opts = {
        .maxlen = self->maxlen,
        .max_line = PY_MAX_LINE,
        .line_flags = SS_LINE_SPLITLINES,
        .source = self->source,
    };
    ss_filebuf *fb = NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS rc = ss_filebuf_open(&fb, self->path, &opts);
    Py_END_ALLOW_THREADS if (rc < 0) return ss__py_error_int(rc, WHAT);
    self->fb = fb;
    self->gen = ss__py_fork_gen;
    return 0;
}

/* The handle of this process, or NULL with an exception. */
static ss_filebuf *get_fb(FileBuffer *self)
{
    if (!self->fb) {
        ss__py_not_initialized("LineFileBuffer");
        return NULL;
    }
    if (self->gen != ss__py_fork_gen) {
        bool was_closed = ss__filebuf_closed(self->fb);
        self->fb = NULL;
        if (open_fb(self) < 0)
            return NULL;
        if (was_closed)
            ss_filebuf_close(self->fb);
    }
    return self->fb;
}

#define WRITE_DOC                                                                                  \
    "write(data: str) -> int\n--\n\n"                                                              \
    "Write text: every completed line is appended to the file as a record, the\n"                  \
    "rest stays as this handle's partial line. Returns the number of characters."

/* As a PyCFunction exactly: ss__py_bound_call calls it through that type. */
static PyObject *FileBuffer_write(PyObject *op, PyObject *arg);
static PyMethodDef bound_write_def = {"write", ss__py_bound_call, METH_O, WRITE_DOC};

static int FileBuffer_init(FileBuffer *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"path", "maxlen", "source", NULL};
    PyObject *path_obj;
    Py_ssize_t maxlen;
    const char *source;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O&ns:FileBuffer", kwlist, PyUnicode_FSConverter,
                                     &path_obj, &maxlen, &source))
        return -1;
    if (self->fb) {
        Py_DECREF(path_obj);
        PyErr_SetString(PyExc_TypeError, "syncstream: LineFileBuffer.__init__() called twice");
        return -1;
    }
    if (maxlen < 1 || (size_t)maxlen > SS__FILE_MAXLEN_LIMIT) {
        Py_DECREF(path_obj);
        PyErr_Format(PyExc_ValueError, "syncstream: LineFileBuffer: maxlen must be 1..%zu",
                     (size_t)SS__FILE_MAXLEN_LIMIT);
        return -1;
    }
    char *bytes = PyBytes_AsString(path_obj);
    self->path = bytes ? strdup(bytes) : NULL;
    Py_DECREF(path_obj);
    /* The source is cut to the library's limit, as ss_writer_new cuts it. */
    self->source = strndup(source, SS_SOURCE_MAX - 1);
    if (!self->path || !self->source) {
        PyErr_NoMemory();
        return -1;
    }
    self->maxlen = (size_t)maxlen;
    if (open_fb(self) < 0)
        return -1;
    self->bound =
        ss__py_bind_write((PyObject *)self, filebuf_type, &bound_write_def, FileBuffer_write);
    return self->bound ? 0 : -1;
}

static void FileBuffer_dealloc(FileBuffer *self)
{
    ss__py_unbind(&self->bound);
    if (self->fb && self->gen == ss__py_fork_gen) {
        Py_BEGIN_ALLOW_THREADS ss_filebuf_free(self->fb);
        Py_END_ALLOW_THREADS
    }
    free(self->path);
    free(self->source);
    ss__py_free((PyObject *)self);
}

static PyObject *FileBuffer_write(PyObject *op, PyObject *arg)
{
    FileBuffer *self = (FileBuffer *)op;
    ss_filebuf *fb = get_fb(self);
    if (!fb)
        return NULL;
    const char *data;
    Py_ssize_t len;
    PyObject *keep;
    if (ss__py_utf8(arg, "write() argument", &data, &len, &keep) < 0)
        return NULL;
    int rc = ss__filebuf_write_nowait(fb, data, (size_t)len);
    if (rc == -EAGAIN) {
        Py_BEGIN_ALLOW_THREADS rc = ss_filebuf_write(fb, data, (size_t)len);
        Py_END_ALLOW_THREADS
    }
    Py_XDECREF(keep);
    if (rc < 0)
        return ss__py_error(rc, WHAT);
    return PyLong_FromSsize_t(PyUnicode_GetLength(arg));
}

static PyObject *FileBuffer_append(FileBuffer *self, PyObject *args)
{
    const char *kind_name;
    PyObject *text;
    if (!PyArg_ParseTuple(args, "sO:_append", &kind_name, &text))
        return NULL;
    ss_filebuf *fb = get_fb(self);
    if (!fb)
        return NULL;
    ss_kind kind;
    if (ss__py_kind(kind_name, &kind) < 0)
        return NULL;
    const char *data;
    Py_ssize_t len;
    PyObject *keep;
    if (ss__py_utf8(text, "_append() text", &data, &len, &keep) < 0)
        return NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS rc = ss_filebuf_append(fb, kind, data, (size_t)len);
    Py_END_ALLOW_THREADS Py_XDECREF(keep);
    if (rc < 0)
        return ss__py_error(rc, WHAT);
    Py_RETURN_NONE;
}

/* A call taking only the handle: new_line, flush, clear. */
static PyObject *call_fb(FileBuffer *self, int (*fn)(ss_filebuf *))
{
    ss_filebuf *fb = get_fb(self);
    if (!fb)
        return NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS rc = fn(fb);
    Py_END_ALLOW_THREADS if (rc < 0) return ss__py_error(rc, WHAT);
    Py_RETURN_NONE;
}

static PyObject *FileBuffer_new_line(FileBuffer *self, PyObject *unused)
{
    return call_fb(self, ss_filebuf_new_line);
}

static PyObject *FileBuffer_flush(FileBuffer *self, PyObject *unused)
{
    return call_fb(self, ss_filebuf_flush);
}

static PyObject *FileBuffer_clear(FileBuffer *self, PyObject *unused)
{
    PyObject *res = call_fb(self, ss_filebuf_clear);
    /* As sync-stream, which removes the process's own temporary file too. */
    if (res)
        ss__filebuf_reset_partial(self->fb);
    return res;
}

static PyObject *FileBuffer_close(FileBuffer *self, PyObject *unused)
{
    ss_filebuf *fb = get_fb(self);
    if (!fb)
        return NULL;
    Py_BEGIN_ALLOW_THREADS ss_filebuf_close(fb);
    Py_END_ALLOW_THREADS Py_RETURN_NONE;
}

/* The partial line as a str in *ret (NULL when empty). Returns 0 or -1. */
static int partial(ss_filebuf *fb, PyObject **ret)
{
    char *text;
    size_t len;
    if (ss__filebuf_partial(fb, &text, &len) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    *ret = len ? ss__py_str(text, len) : NULL;
    free(text);
    return (len && !*ret) ? -1 : 0;
}

static PyObject *FileBuffer_read(FileBuffer *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"size", NULL};
    PyObject *size_obj = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:read", kwlist, &size_obj))
        return NULL;
    size_t size;
    ss_filebuf *fb = get_fb(self);
    if (!fb || ss__py_size(size_obj, &size) < 0)
        return NULL;
    if (size == 0) {
        if (ss__filebuf_closed(fb))
            return ss__py_error(SS_ECLOSED, WHAT);
        return PyTuple_New(0);
    }
    PyObject *part;
    if (partial(fb, &part) < 0)
        return NULL;
    /* The partial line is the newest item and takes the oldest one's place
     * when the view is full, as in sync-stream. */
    size_t n = size;
    if (part) {
        size_t room = ss_filebuf_maxlen(fb) - 1;
        n = size - 1 < room ? size - 1 : room;
    }
    ss_records set = SS_RECORDS_INIT;
    int rc = 0;
    if (n > 0) {
        Py_BEGIN_ALLOW_THREADS rc = ss_filebuf_read(fb, n, &set);
        Py_END_ALLOW_THREADS
    } else if (ss__filebuf_closed(fb)) {
        rc = SS_ECLOSED;
    }
    if (rc < 0) {
        Py_XDECREF(part);
        return ss__py_error(rc, WHAT);
    }
    /* Every item is a str, as sync-stream's LineFileBuffer returns them: a
     * warning or an error is its text, lines joined by "\n". */
    PyObject *tuple = PyTuple_New((Py_ssize_t)set.count + (part ? 1 : 0));
    for (size_t i = 0; tuple && i < set.count; i++) {
        PyObject *item = ss__py_str(set.items[i].text, set.items[i].len);
        if (!item)
            Py_CLEAR(tuple);
        else
            PyTuple_SetItem(tuple, (Py_ssize_t)i, item);
    }
    ss_records_clear(&set);
    if (tuple && part)
        PyTuple_SetItem(tuple, PyTuple_Size(tuple) - 1, Py_NewRef(part));
    Py_XDECREF(part);
    return tuple;
}

static Py_ssize_t FileBuffer_len(FileBuffer *self)
{
    ss_filebuf *fb = get_fb(self);
    if (!fb)
        return -1;
    size_t n;
    int rc;
    Py_BEGIN_ALLOW_THREADS rc = ss_filebuf_len(fb, &n);
    Py_END_ALLOW_THREADS if (rc == SS_ECLOSED) return 0;
    if (rc < 0)
        return ss__py_error_int(rc, WHAT);
    PyObject *part;
    if (partial(fb, &part) < 0)
        return -1;
    if (part && n < ss_filebuf_maxlen(fb))
        n++;
    Py_XDECREF(part);
    return (Py_ssize_t)n;
}

static PyObject *FileBuffer_get_closed(FileBuffer *self, void *unused)
{
    ss_filebuf *fb = get_fb(self);
    return fb ? PyBool_FromLong(ss__filebuf_closed(fb)) : NULL;
}

static PyObject *FileBuffer_get_maxlen(FileBuffer *self, void *unused)
{
    ss_filebuf *fb = get_fb(self);
    return fb ? PyLong_FromSize_t(ss_filebuf_maxlen(fb)) : NULL;
}

static PyObject *FileBuffer_get_path(FileBuffer *self, void *unused)
{
    if (!get_fb(self))
        return NULL;
    return PyUnicode_DecodeFSDefault(self->path);
}

static PyMethodDef FileBuffer_methods[] = {
    {"write", FileBuffer_write, METH_O, WRITE_DOC},
    {"_append", METH(FileBuffer_append), METH_VARARGS,
     "_append(kind: str, text: str) -> None\n--\n\n"
     "End the partial line, then append text as one record of kind \"warning\" or\n"
     "\"error\"."},
    {"read", METH(FileBuffer_read), METH_VARARGS | METH_KEYWORDS,
     "read(size: int | None = None) -> tuple[str, ...]\n--\n\n"
     "The newest size items of the file (all with None), oldest first, this\n"
     "handle's partial line last if it is not empty; at most maxlen items."},
    {"new_line", METH(FileBuffer_new_line), METH_NOARGS,
     "new_line() -> None\n--\n\nEnd the partial line if it is not empty."},
    {"flush", METH(FileBuffer_flush), METH_NOARGS,
     "flush() -> None\n--\n\n"
     "Append what the handle holds (records a failed append kept) and make the\n"
     "file durable (fsync). The partial line stays partial."},
    {"clear", METH(FileBuffer_clear), METH_NOARGS,
     "clear() -> None\n--\n\n"
     "Remove every record from the file (for every process) and this handle's\n"
     "partial line."},
    {"_close", METH(FileBuffer_close), METH_NOARGS,
     "_close() -> None\n--\n\nClose the handle: later calls raise OSError (EBADF)."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef FileBuffer_getset[] = {
    {"closed", GETTER(FileBuffer_get_closed), NULL, "Whether the handle was closed.", NULL},
    {"maxlen", GETTER(FileBuffer_get_maxlen), NULL,
     "The records the file keeps (from its header: the maxlen of the handle that\n"
     "created it).",
     NULL},
    {"path", GETTER(FileBuffer_get_path), NULL, "The log file's path.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyDoc_STRVAR(FileBuffer_doc,
             "FileBuffer(path: str | bytes | os.PathLike, maxlen: int, source: str)\n"
             "--\n\n"
             "A handle on a syncstream log file shared by processes (ss_filebuf); use\n"
             "syncstream.LineFileBuffer, which builds on it.");

static PyObject *FileBuffer_getattro(FileBuffer *self, PyObject *name)
{
    return ss__py_bound_getattr((PyObject *)self, name, self->bound);
}

static int FileBuffer_setattro(FileBuffer *self, PyObject *name, PyObject *value)
{
    return ss__py_bound_setattr((PyObject *)self, name, value, &self->bound);
}

static PyType_Slot FileBuffer_slots[] = {
    {Py_tp_getattro, FileBuffer_getattro},
    {Py_tp_setattro, FileBuffer_setattro},
    {Py_tp_doc, (void *)FileBuffer_doc},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_init, FileBuffer_init},
    {Py_tp_dealloc, FileBuffer_dealloc},
    {Py_tp_methods, FileBuffer_methods},
    {Py_tp_getset, FileBuffer_getset},
    {Py_sq_length, FileBuffer_len},
    {Py_nb_bool, ss__py_true},
    {0, NULL},
};

static PyType_Spec FileBuffer_spec = {
    .name = "syncstream._core.FileBuffer",
    .basicsize = sizeof(FileBuffer),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .slots = FileBuffer_slots,
};

int ss__py_filebuf_add(PyObject *module)
{
    if (ss__py_fork_watch() < 0)
        return -1;
    return ss__py_add_type(module, &FileBuffer_spec, &filebuf_type);
}
