/* str <-> record bytes. */
#include "core.h"

int ss__py_utf8(PyObject *obj, const char *what, const char **ret_data, Py_ssize_t *ret_len,
                PyObject **ret_keep)
{
    if (!PyUnicode_Check(obj)) {
        ss__py_type_error(what, "str", obj);
        return -1;
    }
    /* The common case costs nothing: the str caches its UTF-8 form. */
    const char *data = PyUnicode_AsUTF8AndSize(obj, ret_len);
    if (data) {
        *ret_data = data;
        *ret_keep = NULL;
        return 0;
    }
    if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError))
        return -1;
    /* Lone surrogates: a str decoded with surrogateescape (a file name, a
     * subprocess's bytes) goes back to its bytes; other surrogates raise. */
    PyErr_Clear();
    PyObject *bytes = PyUnicode_AsEncodedString(obj, "utf-8", "surrogateescape");
    if (!bytes)
        return -1;
    char *buf;
    if (PyBytes_AsStringAndSize(bytes, &buf, ret_len) < 0) {
        Py_DECREF(bytes);
        return -1;
    }
    *ret_data = buf;
    *ret_keep = bytes;
    return 0;
}

PyObject *ss__py_str(const char *text, size_t len)
{
    return PyUnicode_DecodeUTF8(text, (Py_ssize_t)len, "surrogateescape");
}

void ss__py_type_error(const char *what, const char *expected, PyObject *obj)
{
    PyObject *name = PyType_GetName(Py_TYPE(obj));
    if (name) {
        PyErr_Format(PyExc_TypeError, "syncstream: %s must be %s, not %U", what, expected, name);
        Py_DECREF(name);
    }
}
