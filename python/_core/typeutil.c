/*
 * What the extension's types share: argument parsing every buffer does the
 * same way, the errors of an object used before __init__ or after close, the
 * file-protocol answers of an object that is not a real file, deallocation's
 * tail and adding a type to the module.
 */
#include "core.h"

#include <errno.h>
#include <string.h>

#include <syncstream/linebuf.h>

/* ss_linebuf_new() refuses a larger maxlen (linebuf.h). */
#define MAXLEN_LIMIT (1LL << 28)

void ss__py_not_initialized(const char *what)
{
    PyErr_Format(PyExc_ValueError, "syncstream: %s.__init__() was not called", what);
}

void ss__py_oserror(int err, const char *message)
{
    /* The constructor picks the subclass (FileNotFoundError for ENOENT...). */
    PyObject *exc = PyObject_CallFunction(PyExc_OSError, "(is)", err, message);
    if (!exc)
        return;
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
}

int ss__py_size(PyObject *obj, size_t *ret)
{
    if (!obj || obj == Py_None) {
        *ret = SS_READ_ALL;
        return 0;
    }
    if (!PyIndex_Check(obj)) {
        ss__py_type_error("read() size", "an int or None", obj);
        return -1;
    }
    PyObject *num = PyNumber_Index(obj);
    if (!num)
        return -1;
    int overflow = 0;
    long long n = PyLong_AsLongLongAndOverflow(num, &overflow);
    Py_DECREF(num);
    if (n == -1 && PyErr_Occurred())
        return -1;
    *ret = overflow > 0 ? SS_READ_ALL : (overflow < 0 || n <= 0) ? 0 : (size_t)n;
    return 0;
}

int ss__py_maxlen(PyObject *obj, const char *what, size_t *ret)
{
    if (!obj) {
        *ret = 20;
        return 0;
    }
    int overflow = 0;
    /* sync-stream's check and message: a positive int (a bool is an int) */
    long long maxlen = PyLong_Check(obj) ? PyLong_AsLongLongAndOverflow(obj, &overflow) : 0;
    if (maxlen == -1 && PyErr_Occurred())
        return -1;
    if (overflow < 0 || (!overflow && maxlen < 1)) {
        PyErr_SetString(PyExc_TypeError,
                        "syncstream: The argument \"maxlen\" should be a positive integer.");
        return -1;
    }
    if (overflow > 0 || maxlen > MAXLEN_LIMIT) {
        PyErr_Format(PyExc_ValueError, "syncstream: %s: maxlen %R is larger than the limit, %lld",
                     what, obj, MAXLEN_LIMIT);
        return -1;
    }
    *ret = (size_t)maxlen;
    return 0;
}

int ss__py_kind(const char *name, ss_kind *ret)
{
    if (strcmp(name, "warning") == 0) {
        *ret = SS_KIND_WARNING;
    } else if (strcmp(name, "error") == 0) {
        *ret = SS_KIND_ERROR;
    } else {
        PyErr_Format(PyExc_ValueError,
                     "syncstream: _append() kind must be \"warning\" or \"error\", not \"%s\"",
                     name);
        return -1;
    }
    return 0;
}

PyObject *ss__py_false(PyObject *self, PyObject *unused)
{
    Py_RETURN_FALSE;
}

PyObject *ss__py_unsupported(PyObject *self, PyObject *args)
{
    PyObject *name = PyType_GetName(Py_TYPE(self));
    if (name) {
        PyErr_Format(PyExc_OSError, "syncstream: %U has no file descriptor and no random access",
                     name);
        Py_DECREF(name);
    }
    return NULL;
}

int ss__py_true(PyObject *self)
{
    return 1;
}

void ss__py_free(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    freefunc tp_free = PyType_GetSlot(tp, Py_tp_free);
    tp_free(self);
    /* A heap type's instance holds a reference to its type. */
    Py_DECREF(tp);
}

int ss__py_add_type(PyObject *module, PyType_Spec *spec, PyObject **ret_type)
{
    PyObject *type = PyType_FromSpec(spec);
    if (!type)
        return -1;
    /* "syncstream._core.LineBuffer" -> "LineBuffer" */
    int rc = PyModule_AddObjectRef(module, strrchr(spec->name, '.') + 1, type);
    if (rc == 0 && ret_type)
        *ret_type = type;
    else
        Py_DECREF(type);
    return rc;
}
