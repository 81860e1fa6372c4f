/*
 * _core.FdCapture: one file descriptor captured into a LineBuffer, on
 * ss_capture (syncstream/capture.h). syncstream.capture() (capture.py) makes
 * one per descriptor and flushes Python's own streams around them.
 *
 * The capture holds a reference to its LineBuffer: the library requires the
 * capture to end before its ss_linebuf is freed, and the buffer cannot be
 * freed while this object lives. Deallocation ends a capture still running.
 */
#include "core.h"

#include <syncstream/capture.h>
#include <syncstream/record.h>

typedef struct {
    PyObject_HEAD PyObject *owner; /* the LineBuffer */
    ss_capture *cap;               /* NULL once ended (or before __init__) */
} FdCapture;

/* End the capture with the GIL released: the library joins its reader thread,
 * which stores the last bytes. */
static int end_capture(FdCapture *self)
{
    ss_capture *cap = self->cap;
    self->cap = NULL;
    if (!cap)
        return 0;
    int rc;
    Py_BEGIN_ALLOW_THREADS rc = ss_capture_end(cap);
    Py_END_ALLOW_THREADS return rc;
}

static int FdCapture_init(FdCapture *self, PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"buffer", "fd", "source", "tee", "stderr", NULL};
    PyObject *buffer;
    int fd;
    const char *source = NULL;
    int tee = 0, is_stderr = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "Oi|$zpp:FdCapture", kwlist, &buffer, &fd,
                                     &source, &tee, &is_stderr))
        return -1;
    if (self->cap || self->owner) {
        PyErr_SetString(PyExc_TypeError, "syncstream: FdCapture.__init__() called twice");
        return -1;
    }
    ss_linebuf *lb = ss__py_linebuf_get(buffer);
    if (!lb)
        return -1;
    ss_capture_opts opts = {
        .source = source,
        .tee = tee,
        .rec_flags = is_stderr ? SS_REC_STDERR : 0,
    };
    ss_capture *cap = NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS rc = ss_capture_begin(&cap, lb, fd, &opts);
    Py_END_ALLOW_THREADS if (rc < 0) return ss__py_error_int(rc, "capture");
    self->owner = Py_NewRef(buffer);
    self->cap = cap;
    return 0;
}

static void FdCapture_dealloc(FdCapture *self)
{
    end_capture(self);
    Py_XDECREF(self->owner);
    ss__py_free((PyObject *)self);
}

static PyObject *FdCapture_end(FdCapture *self, PyObject *unused)
{
    int rc = end_capture(self);
    if (rc < 0)
        return ss__py_error(rc, "capture");
    Py_RETURN_NONE;
}

static PyObject *FdCapture_get_active(FdCapture *self, void *unused)
{
    return PyBool_FromLong(self->cap != NULL);
}

static PyMethodDef FdCapture_methods[] = {
    {"end", METH(FdCapture_end), METH_NOARGS,
     "end() -> None\n--\n\n"
     "Restore the descriptor and store every byte written to it before this call\n"
     "(a last unterminated line becomes a record). A second call does nothing.\n"
     "Raises OSError if the buffer was closed meanwhile or the descriptor could\n"
     "not be restored."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef FdCapture_getset[] = {
    {"active", GETTER(FdCapture_get_active), NULL, "Whether the capture has not ended.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyDoc_STRVAR(FdCapture_doc,
             "FdCapture(buffer: LineBuffer, fd: int, *, source: str | None = None,\n"
             "          tee: bool = False, stderr: bool = False)\n"
             "--\n\n"
             "Capture the file descriptor fd into buffer until end(): every byte written to\n"
             "it, by Python, C code or child processes that inherit it, becomes lines of\n"
             "the buffer, as records named source (\"fd<N>\" by default), flagged stderr if\n"
             "stderr is true. tee=True also passes every byte on to the original\n"
             "destination. Use syncstream.capture(), which also flushes sys.stdout and\n"
             "sys.stderr around it.");

static PyType_Slot FdCapture_slots[] = {
    {Py_tp_doc, (void *)FdCapture_doc},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_init, FdCapture_init},
    {Py_tp_dealloc, FdCapture_dealloc},
    {Py_tp_methods, FdCapture_methods},
    {Py_tp_getset, FdCapture_getset},
    {0, NULL},
};

static PyType_Spec FdCapture_spec = {
    .name = "syncstream._core.FdCapture",
    .basicsize = sizeof(FdCapture),
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = FdCapture_slots,
};

int ss__py_capture_add(PyObject *module)
{
    return ss__py_add_type(module, &FdCapture_spec, NULL);
}
