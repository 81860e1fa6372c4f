/* Library error codes as Python exceptions (see core.h for the mapping). */
#include "core.h"

#include <errno.h>

#include <syncstream/common.h>

/* OSError(err, "syncstream: what: text"): the constructor picks the subclass
 * (FileNotFoundError for ENOENT...), as PyErr_SetFromErrno does. */
static void raise_errno(int err, const char *what, const char *text)
{
    PyObject *exc = PyObject_CallFunction(PyExc_OSError, "(iN)", err,
                                          PyUnicode_FromFormat("syncstream: %s: %s", what, text));
    if (!exc)
        return;
    PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    Py_DECREF(exc);
}

PyObject *ss__py_error(int rc, const char *what)
{
    const char *text = ss_strerror(rc);
    switch (rc) {
    case -EINVAL:
    case SS_ETOOBIG:
        PyErr_Format(PyExc_ValueError, "syncstream: %s: %s", what, text);
        break;
    case -ENOMEM:
        PyErr_NoMemory();
        break;
    case -ETIMEDOUT:
        PyErr_Format(PyExc_TimeoutError, "syncstream: %s: %s", what, text);
        break;
    case SS_ECLOSED:
        raise_errno(EBADF, what, text);
        break;
    default:
        if (rc < 0 && rc > -4096)
            raise_errno(-rc, what, text);
        else
            PyErr_Format(PyExc_OSError, "syncstream: %s: %s", what, text);
        break;
    }
    return NULL;
}

int ss__py_error_int(int rc, const char *what)
{
    ss__py_error(rc, what);
    return -1;
}
